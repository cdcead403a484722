"""Star ratings: the month's leaderboards, honours, penalties, the quarter's payout, and why.

The month shown is published if it has a published version, else provisional and said
so. For a quarter, year or custom period the page shows the last complete month in it.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from access.store import AuditEvent
from dashboard import data, session, widgets
from dashboard.figures.stars import (
    advice_text,
    breakdown_bars,
    breakdown_table,
    category_text,
    group_text,
    indicator_label,
    movement_text,
    score_bars,
    score_histogram,
    severity_text,
    sources_text,
    stars_distribution,
    stars_text,
)
from dashboard.i18n import format_number, plain
from dashboard.navigation import go, link
from dashboard.page import PageContext, run_page
from dashboard.subject import star_month
from warehouse.periods import quarter_months, quarter_of
from warehouse.scope import Permission
from warehouse.settings import load_config
from warehouse.stars.board import (
    MonthBoards,
    month_boards,
    penalties,
    publication,
    quarter_payout,
    restatement,
    subject_breakdown,
)
from warehouse.stars.model import load_model
from warehouse.stars.publish import AlreadyPublished, BrokenSeal, publish_month

LINK_TO = {"outlets": ("outlet", "outlet"), "staff": ("staff", "staff")}  # page, URL parameter
MONEY = "¥%,.2f"
AWARD_ICONS = {
    "window_of_stars": ":material/emoji_events:",
    "star_of_service": ":material/military_tech:",
}


def table_height(frame: pl.DataFrame) -> int:
    """Pixels for a long table: it scrolls after the configured number of rows."""
    rows = min(frame.height, int(load_config("stars_page")["table_rows"]))
    return 38 + 35 * rows


def shown_month(ctx: PageContext) -> tuple[str, str | None]:
    """The month the star figures are for, and a note when the period is not one month."""
    month = star_month(ctx)
    note = None if ctx.selection.preset == "month" else ctx.t("stars_month_note", month=month)
    return month, note


def banner(ctx: PageContext, month: str) -> None:
    """Provisional or published (which version, when, by whom, and why if restated)."""
    info = data.fetch(publication, month=month)
    if ctx.can(Permission.PUBLISH):
        publish_controls(ctx, month, published=info is not None)
    if info is None:
        st.warning(ctx.t("stars_provisional_banner", month=month), icon=":material/pending:")
        return
    text = ctx.t(
        "stars_published_banner",
        month=month,
        version=info.version,
        date=info.published_at.strftime("%Y-%m-%d"),
        who=info.published_by,
        model=info.model_version,
    )
    if info.reason:
        text += " " + ctx.t("stars_restated_because", reason=info.reason)
    if info.sealed is False:  # changed on the file after publishing: say it loudly
        st.error(ctx.t("stars_seal_broken", month=month, version=info.version), icon="🚨")
        return
    st.success(text, icon=":material/verified:")


def publish_controls(ctx: PageContext, month: str, *, published: bool) -> None:
    """Publish the month, or restate a published one with a reason (leading group only).

    Publishing builds the warehouse's next version like a load (all or nothing) and
    records who did it, from the signed-in account, in the month and in the audit log.
    """
    title = ctx.t("stars_restate_title" if published else "stars_publish_title", month=month)
    with st.expander(title, icon=":material/gavel:"), st.form(f"publish-{month}"):
        reason = ""
        if published:
            reason = st.text_input(ctx.t("stars_restate_reason"), max_chars=500)
        sure = st.checkbox(ctx.t("stars_publish_confirm", month=month))
        button = "stars_restate_button" if published else "stars_publish_button"
        if not st.form_submit_button(ctx.t(button, month=month), type="primary"):
            return
    if not sure:
        st.warning(ctx.t("stars_publish_unconfirmed"))
        return
    # the write path, only when someone publishes
    from etl.atomic import next_version

    who = session.current_account().username
    try:
        with (
            st.spinner(ctx.t("stars_publishing", month=month)),
            next_version(data.warehouse_path(), why=f"publish {month} by {who}") as con,
        ):
            version, _ = publish_month(con, month, by=who, restate=published, reason=reason or None)
    except (AlreadyPublished, ValueError) as refused:
        st.error(ctx.t("stars_publish_failed", why=str(refused)))
        return
    event = AuditEvent.RESTATE if published else AuditEvent.PUBLISH
    session.audit(event, month=month, version=version, reason=reason or None)
    st.success(ctx.t("stars_published_done", month=month, version=version))


def _note(row: dict, ctx: PageContext) -> str:
    """Why a row's stars are lower than its score says: capped by a complaint."""
    if row["capped_by"]:
        severity = severity_text(row["capped_severity"], ctx.lang) or row["capped_by"]
        return ctx.t("stars_capped_note", severity=severity)
    return ""


def leaderboard(ctx: PageContext, board: pl.DataFrame, subject: str) -> None:
    """One leaderboard of the rated: rank, link, name, group, stars, score, move, note, points.

    Those not rated (too few hours) have no place on it; a line under it names them.
    """
    page, param = LINK_TO[subject]
    rated = board.filter(pl.col("status") == "rated")
    rows = rated.to_dicts()
    points = [c for c in rated.columns if c.startswith("points_")]
    spec = {i.name: i.kpi for i in load_model().subjects[subject].indicators}
    t = ctx.t
    frame = pl.DataFrame(
        {
            t("stars_col_rank"): rated["rank"],
            t(f"stars_col_{subject}_id"): [link(page, **{param: r["subject_id"]}) for r in rows],
            t(f"stars_col_{subject}_name"): rated["name"],
            **({t("stars_col_outlet"): rated["outlet_name"]} if subject == "staff" else {}),
            t(f"stars_col_{subject}_group"): [
                group_text(subject, r["peer_group"], ctx.lang) for r in rows
            ],
            t("stars_col_stars"): [stars_text(r["stars"]) for r in rows],
            t("stars_col_score"): rated["score"].round(1),
            t("stars_col_movement"): [movement_text(r["movement"]) for r in rows],
            t("stars_col_note"): [_note(r, ctx) for r in rows],
            **{
                t(
                    "stars_col_points_of",
                    indicator=indicator_label(
                        c.removeprefix("points_"), spec.get(c.removeprefix("points_"), ""), ctx.lang
                    ),
                ): rated[c].round(1)
                for c in points
            },
        }
    )
    widgets.table(
        frame,
        f"stars-{subject}",
        ctx.lang,
        column_config={
            t(f"stars_col_{subject}_id"): st.column_config.LinkColumn(
                display_text=rf"[?&]{param}=([^&]*)"
            ),
            t("stars_col_score"): st.column_config.NumberColumn(format="%.1f"),
        },
        height=table_height(frame),
    )
    absent = board.filter(pl.col("status") != "rated")
    if absent.height:
        names = ", ".join(
            plain(f"{r['subject_id']} {r['name'] or ''}".strip()) for r in absent.to_dicts()
        )
        st.caption(ctx.t("stars_not_rated_list", names=names))


def honours(ctx: PageContext, boards: MonthBoards) -> None:
    """Window of Stars and Star of Service, each a short list linking to the pages."""
    st.subheader(ctx.t("stars_awards_title"))
    model = load_model()
    columns = st.columns(len(model.awards) or 1)
    for column, award in zip(columns, model.awards, strict=False):
        page, param = LINK_TO[award.subject]
        winners = boards.awards.filter(pl.col("award") == award.name)
        with column:
            icon = AWARD_ICONS.get(award.name, ":material/star:")
            st.markdown(f"**{icon} {ctx.t('stars_award_' + award.name)}**")
            st.caption(ctx.t("stars_award_rule", top=award.top, stars=award.min_stars))
            if winners.is_empty():
                st.caption(ctx.t("stars_award_none"))
            for r in winners.iter_rows(named=True):
                target = link(page, **{param: r["subject_id"]})
                st.markdown(
                    f"- [{plain(r['subject_id'])} {plain(r['name'] or '')}]({target}) "
                    f"{stars_text(r['stars'])} {r['score']:.1f}"
                )


def penalty_table(ctx: PageContext) -> None:
    """The period's penalty register: substantiated complaints against named people."""
    st.subheader(ctx.t("stars_penalties_title"))
    register = data.fetch(penalties, **ctx.kpi_args())
    t = ctx.t
    frame = pl.DataFrame(
        {
            t("stars_col_received"): register["received_at"],
            t("stars_col_staff_id"): [link("staff", staff=s) for s in register["staff_id"]],
            t("stars_col_staff_name"): register["staff_name"],
            t("stars_col_outlet"): register["outlet_code"],
            t("stars_col_category"): [category_text(c, ctx.lang) for c in register["category"]],
            t("stars_col_severity"): [severity_text(s, ctx.lang) for s in register["severity"]],
            t("stars_col_penalty"): [t(f"stars_penalty_{p}") for p in register["penalty"]],
            t("stars_col_fine"): register["penalty_amount"],
            t("stars_col_complaint"): register["complaint_id"],
        }
    )
    if not ctx.can(Permission.PAY):  # the amounts are empty without it: no empty column
        frame = frame.drop(t("stars_col_fine"))
    widgets.table(
        frame,
        "stars-penalties",
        ctx.lang,
        column_config={
            t("stars_col_staff_id"): st.column_config.LinkColumn(display_text=r"[?&]staff=([^&]*)"),
            t("stars_col_fine"): st.column_config.NumberColumn(format=MONEY),
            t("stars_col_received"): st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        },
    )


def payout_section(ctx: PageContext, month: str) -> None:
    """The quarter's payout in view: pool, gross, fines, net, and the table for payroll."""
    quarter = quarter_of(month)
    st.subheader(ctx.t("stars_payout_title", quarter=quarter))
    try:
        table, sources = data.fetch(quarter_payout, quarter=quarter, **ctx.selection.kpi_filters())
    except BrokenSeal as broken:
        st.error(ctx.t("stars_payout_refused", why=str(broken)))
        return
    pool = load_model().pool_per_quarter
    figures = (
        ("stars_payout_pool", pool),
        ("stars_payout_gross", table["gross"].sum()),
        ("stars_payout_fines", table["penalties"].sum()),
        ("stars_payout_net", table["net"].sum()),
    )
    for column, (key, value) in zip(st.columns(4), figures, strict=True):
        column.metric(ctx.t(key), format_number(value, "CNY", ctx.lang), border=True)
    st.caption(ctx.t("stars_payout_sources", sources=sources_text(sources, ctx.lang)))
    names = {c: ctx.t(f"stars_payout_col_{c}") for c in table.columns}
    names |= {f"stars_m{i}": f"{m} ★" for i, m in enumerate(quarter_months(quarter), start=1)}
    frame = table.with_columns(
        staff_id=pl.Series([link("staff", staff=s) for s in table["staff_id"]], dtype=pl.String),
        **{f"stars_m{i}": pl.col(f"stars_m{i}").cast(pl.String).fill_null("—") for i in (1, 2, 3)},
    ).rename(names)
    t = ctx.t
    money = ("gross", "penalties", "net")
    widgets.table(
        frame,
        f"payout-{quarter}",
        ctx.lang,
        column_config={
            t("stars_payout_col_staff_id"): st.column_config.LinkColumn(
                display_text=r"[?&]staff=([^&]*)"
            ),
            t("stars_payout_col_average_stars"): st.column_config.NumberColumn(format="%.2f"),
            **{
                t(f"stars_payout_col_{c}"): st.column_config.NumberColumn(format=MONEY)
                for c in money
            },
        },
        height=table_height(frame),
    )


def breakdown_section(ctx: PageContext, boards: MonthBoards) -> None:
    """Pick an outlet or a person: what earned each point, what would lift a star."""
    st.subheader(ctx.t("stars_breakdown_title"))
    subject = (
        st.segmented_control(
            ctx.t("stars_breakdown_kind"),
            ["outlets", "staff"],
            format_func=lambda s: ctx.t(f"stars_subject_{s}"),
            default="outlets",
            key="stars_kind",
        )
        or "outlets"
    )
    board = boards.of(subject)
    if board.is_empty():
        st.info(ctx.t("stars_empty"))
        return
    labels = {
        r["subject_id"]: f"{r['subject_id']} {r['name'] or ''} {stars_text(r['stars'])}"
        for r in board.iter_rows(named=True)
    }
    if st.session_state.get("stars_subject") not in labels:
        st.session_state["stars_subject"] = next(iter(labels))
    chosen = st.selectbox(
        ctx.t(f"stars_pick_{subject}"), list(labels), format_func=labels.get, key="stars_subject"
    )
    show_breakdown(ctx, boards.month, subject, chosen)


def show_breakdown(ctx: PageContext, month: str, subject: str, subject_id: str) -> None:
    """The breakdown chart, the advice and the table of one subject's month."""
    found = data.fetch(
        subject_breakdown,
        month=month,
        subject=subject,
        subject_id=subject_id,
        **ctx.selection.kpi_filters(),
    )
    if found is None:
        st.info(ctx.t("stars_not_in_view"))
        return
    st.markdown(f"**{stars_text(found.stars)}** · {advice_text(found, ctx.lang)}")
    if found.lines.is_empty():
        return
    if found.values_recomputed:
        st.caption(ctx.t("stars_values_recomputed"))
    title = ctx.t("stars_breakdown_chart", month=month)
    widgets.chart(breakdown_bars(found.lines, ctx.lang, title=title), f"breakdown-{subject}")
    widgets.table(breakdown_table(found.lines, ctx.lang), f"breakdown-{subject}-table", ctx.lang)


def changes(ctx: PageContext, month: str) -> None:
    """What the latest restatement changed, when the month was restated."""
    for subject in ("outlets", "staff"):
        diff = data.fetch(restatement, month=month, subject=subject, **ctx.selection.kpi_filters())
        if diff.is_empty():
            continue
        with st.expander(ctx.t(f"stars_restatement_{subject}", n=diff.height)):
            frame = diff.rename({c: ctx.t(f"stars_restated_col_{c}") for c in diff.columns})
            widgets.table(frame, f"restated-{subject}", ctx.lang)


def render(ctx: PageContext) -> None:
    """Build the page."""
    month, note = shown_month(ctx)
    boards = data.fetch(month_boards, month=month, **ctx.selection.kpi_filters())
    if note:
        st.caption(note)
    if boards.outlets.is_empty() and boards.staff.is_empty():
        st.info(ctx.t("stars_empty"))
        return
    banner(ctx, month)
    bands = load_model().bands
    left, right = st.columns(2)
    with left:
        widgets.chart(
            stars_distribution({"outlets": boards.outlets, "staff": boards.staff}, ctx.lang),
            "stars-distribution",
        )
    with right:
        title = ctx.t("stars_staff_scores_title")
        widgets.chart(score_histogram(boards.staff, ctx.lang, bands, title=title), "staff-scores")

    st.subheader(ctx.t("stars_outlets_title", month=month))
    title = ctx.t("stars_outlet_scores_title")
    clicked = widgets.chart(
        score_bars(boards.outlets, ctx.lang, bands, title=title), "outlet-scores", clickable=True
    )
    for point in clicked:
        if point.get("customdata"):
            go("outlet", outlet=str(point["customdata"]))
    st.caption(ctx.t("stars_click_hint"))
    leaderboard(ctx, boards.outlets, "outlets")
    st.subheader(ctx.t("stars_staff_title", month=month))
    leaderboard(ctx, boards.staff, "staff")
    st.caption(ctx.t("stars_rank_caption"))

    honours(ctx, boards)
    changes(ctx, month)
    penalty_table(ctx)
    if ctx.can(Permission.PAY):
        payout_section(ctx, month)
    breakdown_section(ctx, boards)


run_page("nav_stars", render)
