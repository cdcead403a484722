"""The star assessment: monthly scores and stars for outlets and counter staff."""
