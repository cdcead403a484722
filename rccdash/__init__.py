"""rccdash: service-quality management for a county rural credit cooperative union."""
