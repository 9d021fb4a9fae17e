"""The operators' dashboard: is ReadCrumbs healthy, are its recommendations good, is input drifting?

Run: ``streamlit run monitoring/app.py --server.port 8502``. It reads the event store and the
registry named by the settings (``READCRUMBS_EVENTS_URL``, ``READCRUMBS_REGISTRY_URL``) and
never writes to either. The numbers come from :func:`monitoring.report.build_report`; this
module only lays them out.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd
import streamlit as st

from monitoring import charts, drift, traffic
from monitoring.arms import ArmsView, build_arms, comparison_table, relative_changes
from monitoring.loading import WindowData, load_traffic, load_window, only_versions
from monitoring.models import RegistryView, load_registry_view
from monitoring.report import Report, ReportOptions, build_report
from monitoring.settings import MonitoringSettings, get_settings
from monitoring.windows import CUSTOM, PRESETS, Window, custom_window, preset_window
from readcrumbs.errors import ReadCrumbsError
from readcrumbs.events import open_event_store
from readcrumbs.events.base import EventStore
from readcrumbs.events.summary import TrafficSummary
from readcrumbs.online import (
    BETTER,
    BOOTSTRAP_READERS,
    BOOTSTRAP_REQUESTS,
    DEFAULT_MIN_READERS,
    WORSE,
    Z_TEST,
)

LEVEL_COLOURS = {"stable": "green", "moderate": "orange", "drift": "red", "no data": "gray"}


@dataclass(frozen=True)
class Controls:
    """What the operator chose in the sidebar."""

    window: Window
    window_label: str
    slo_ms: float
    recall_k: int
    sample_size: int
    auto_refresh: bool


# -- formatting -----------------------------------------------------------------------------------
def percent(value: float, digits: int = 1) -> str:
    """``0.123`` as ``"12.3%"``; a dash when undefined."""
    return "—" if math.isnan(value) else f"{value:.{digits}%}"


def number(value: float, digits: int = 3) -> str:
    """A float with ``digits`` decimals; a dash when undefined."""
    return "—" if math.isnan(value) else f"{value:.{digits}f}"


def milliseconds(value: float) -> str:
    """A latency; a dash when undefined."""
    return "—" if math.isnan(value) else f"{value:.1f} ms"


# -- data access, cached --------------------------------------------------------------------------
@st.cache_resource(show_spinner=False)
def event_store(url: str) -> EventStore:
    """One store (and its connection pool) per URL for the life of the server."""
    return open_event_store(url)


def cached_window_loader(ttl_s: int) -> Callable[[str, str | None, str | None, int], WindowData]:
    """:func:`load_window` cached for ``ttl_s`` seconds per store URL, window and sample size."""

    @st.cache_data(ttl=ttl_s, show_spinner="Reading the event store…", max_entries=8)
    def load(url: str, start: str | None, end: str | None, sample_size: int) -> WindowData:
        return load_window(event_store(url), Window(start, end), sample_size)

    return load


def cached_traffic_loader(
    ttl_s: int,
) -> Callable[[str, str | None, str | None, str, tuple[str, ...]], TrafficSummary]:
    """:func:`load_traffic` of some versions, cached like :func:`cached_window_loader`."""

    @st.cache_data(ttl=ttl_s, show_spinner="Counting the chosen versions…", max_entries=8)
    def load(
        url: str, start: str | None, end: str | None, bucket: str, versions: tuple[str, ...]
    ) -> TrafficSummary:
        return load_traffic(event_store(url), Window(start, end), bucket, versions)

    return load


def cached_arms_builder(ttl_s: int) -> Callable[..., ArmsView]:
    """:func:`build_arms` cached for ``ttl_s`` seconds per ``key`` (its bootstrap takes a moment).

    ``key`` names what the data and registry were read from; they are not hashed themselves.
    """

    @st.cache_data(ttl=ttl_s, show_spinner="Comparing the arms…", max_entries=8)
    def build(
        _data: WindowData, _registry: RegistryView, key: tuple[object, ...], recall_k: int, min_readers: int
    ) -> ArmsView:
        return build_arms(_data, _registry, recall_k, min_readers)

    return build


@st.cache_data(ttl=120, show_spinner="Reading the registry…", max_entries=4)
def registry_view(registry_url: str, model_name: str) -> RegistryView:
    """Manifests, production version and training catalogue; re-read every two minutes."""
    return load_registry_view(registry_url, model_name)


# -- controls ------------------------------------------------------------------------------------
def sidebar_controls(settings: MonitoringSettings) -> Controls:
    """The sidebar's widgets (all but the version filter, which needs the loaded data)."""
    bar = st.sidebar
    bar.header("Controls")
    label = bar.selectbox("Time window", [*PRESETS, CUSTOM], index=1, key="window")
    if label == CUSTOM:
        today = datetime.now(UTC).date()
        days = bar.date_input(
            "Days (UTC, both included)", value=(today - timedelta(days=6), today), key="days"
        )
        chosen = list(days) if isinstance(days, tuple | list) else [days]
        first, last = (chosen[0], chosen[-1]) if chosen else (today, today)
        window = custom_window(first, last)
    else:
        window = preset_window(label, datetime.now(UTC), settings.dashboard_cache_ttl_s)
    slo_ms = bar.number_input(
        "SLO latency (ms)",
        min_value=1.0,
        max_value=60_000.0,
        value=settings.slo_latency_ms,
        step=5.0,
        key="slo",
    )
    recall_k = int(bar.number_input("K of Recall@K", min_value=1, max_value=100, value=10, key="recall_k"))
    sample_size = int(
        bar.number_input(
            "Recent predictions for list-based metrics",
            min_value=100,
            max_value=1_000_000,
            value=settings.dashboard_sample_size,
            step=5_000,
            key="sample_size",
            help="Quality, Recall@K, catalogue health and drift decode each prediction's book lists, "
            "so they use only this many most recent predictions of the window.",
        )
    )
    auto = bar.toggle(f"Auto-refresh every {settings.dashboard_refresh_s} s", value=False, key="auto_refresh")
    if bar.button("Reload now", key="reload"):
        st.cache_data.clear()
    return Controls(window, label, float(slo_ms), recall_k, sample_size, auto)


def version_filter(data: WindowData, registry: RegistryView) -> list[str] | None:
    """Model versions to show (None: all); options are the versions that served the window."""
    served = sorted(data.traffic.model_versions, key=lambda v: (len(v), v))
    if not served:
        return None
    label = "Model versions"
    aliases = [
        f"{alias}: {version}"
        for alias, version in (("production", registry.production), ("challenger", registry.challenger))
        if version is not None
    ]
    if aliases:
        label += f" ({', '.join(aliases)})"
    chosen = st.sidebar.multiselect(label, served, default=served, key="versions")
    return None if set(chosen) == set(served) else list(chosen)


def auto_refresh(every_s: int) -> None:
    """Rerun the whole page every ``every_s`` seconds while the page is open.

    A fragment with ``run_every`` wakes up on its own; when the page is older than the period it
    asks for a full rerun (the sidebar cannot be redrawn from inside a fragment).
    """

    @st.fragment(run_every=timedelta(seconds=every_s))
    def tick() -> None:
        if time.monotonic() - st.session_state.get("rendered_at", 0.0) >= every_s - 0.5:
            st.rerun(scope="app")

    tick()


# -- sections ----------------------------------------------------------------------------------
def headline(report: Report, controls: Controls) -> None:
    """The six numbers an operator looks at first."""
    cols = st.columns(6)
    cols[0].metric("Requests", f"{report.requests:,}")
    cols[1].metric("Unique users", f"{report.users:,}")
    cols[2].metric("p95 latency", milliseconds(report.latency.p95))
    cols[3].metric(f"Slower than {controls.slo_ms:g} ms", percent(report.slo_breach))
    cols[4].metric("Degraded answers", percent(report.degraded_share))
    cols[5].metric("Like rate", percent(report.feedback_quality.like_rate))


def sample_note(report: Report) -> None:
    """Say which predictions list-based metrics saw."""
    if report.sampled:
        st.caption(
            f"Computed on the {report.recent_requests:,} most recent predictions of the window "
            f"(of {report.requests:,}) and the feedback since the first of them."
        )
    else:
        st.caption(
            f"Computed on all {report.recent_requests:,} predictions of the window and their feedback."
        )


def traffic_section(report: Report, controls: Controls) -> None:
    """Requests over time, latency percentiles and distribution against the SLO."""
    cols = st.columns(4)
    cols[0].metric("p50 latency", milliseconds(report.latency.p50))
    cols[1].metric("p95 latency", milliseconds(report.latency.p95))
    cols[2].metric("p99 latency", milliseconds(report.latency.p99))
    cols[3].metric("Degraded answers", percent(report.degraded_share))
    left, right = st.columns(2)
    left.plotly_chart(
        charts.requests_over_time(report.requests_over_time, report.bucket), key="requests_chart"
    )
    right.plotly_chart(charts.users_over_time(report.users_over_time, report.bucket), key="users_chart")
    left, right = st.columns(2)
    left.plotly_chart(
        charts.latency_over_time(report.latency_over_time, report.bucket, controls.slo_ms),
        key="latency_chart",
    )
    right.plotly_chart(
        charts.latency_histogram(report.latency_histogram, controls.slo_ms), key="latency_hist"
    )
    with st.expander("Definitions"):
        st.markdown(
            "- **Latency** is the server-side time of each answered `/predict`, as logged. The event store "
            "counts every request of the window in a latency histogram of "
            f"{traffic.BINS_PER_DECADE} log-spaced bins a decade (0.05 ms to 60 s, each "
            f"{traffic.LATENCY_BIN_WIDTH:.1%} wide), so **p50/p95/p99 are histogram estimates**: linear "
            "interpolation inside the bin that holds the percentile, so within one bin "
            f"({traffic.LATENCY_BIN_WIDTH:.1%}) of the latency of the request at that rank (the 95th "
            "percentile of 1,000 requests: the 950th fastest). The same holds per time bucket, per "
            "version (`p95_ms`) and for the distribution chart.\n"
            "- **Slower than SLO**: share of requests whose latency exceeds the SLO line (sidebar), "
            "estimated from the same histogram (the bin holding the SLO counts in proportion).\n"
            "- **Unique users**: distinct `userid`s over the window and per time bucket, counted exactly.\n"
            "- **Degraded answers** (our error share): the event store logs only answered predictions, "
            "so refused requests (4xx/5xx) are not counted here. A logged request counts as degraded when "
            "at least one typed title matched no book, or it returned no recommendation. "
            "Measured on the recent predictions (see the Quality tab's note)."
        )


def quality_section(report: Report, controls: Controls) -> None:
    """Feedback rates, Recall@K of later favourites, and each version online vs offline."""
    sample_note(report)
    q = report.feedback_quality
    cols = st.columns(5)
    cols[0].metric(
        "Like rate", percent(q.like_rate), help=f"{q.likes:,} likes over {q.rated_requests:,} rated requests"
    )
    cols[1].metric("Dislike rate", percent(q.dislike_rate), help=f"{q.dislikes:,} dislikes")
    cols[2].metric("Hit rate", percent(q.hit_rate))
    cols[3].metric("MRR", number(q.mrr))
    recall = report.favourite_recall
    cols[4].metric(
        f"Recall@{controls.recall_k} (favourites)",
        percent(recall.recall),
        help=f"{recall.hits:,} of {recall.added:,} books added later had been recommended before",
    )
    st.caption(
        f"{report.feedback_records:,} feedback records read; {report.rated_recommendations:,} rate a "
        f"recommendation of a recent prediction; {q.rated_requests:,} rated requests."
    )
    if not report.like_rate_by_position.empty:
        st.plotly_chart(charts.like_rate_by_position(report.like_rate_by_position), key="position_chart")
    st.subheader("Model versions: online beside offline")
    st.caption(
        "`requests` and `p95_ms` cover the whole window; feedback rates and Recall@K the recent "
        "predictions; `offline …` columns come from each version's manifest."
    )
    st.dataframe(report.versions, hide_index=True, key="versions_table")
    with st.expander("Definitions"):
        st.markdown(
            "Feedback counts when it names a logged prediction (`request_id`) and a book that prediction "
            "showed; a reader's last like/dislike of a book wins. A **rated request** has at least one.\n"
            "- **Like rate** = precision@K of rated requests: liked books / books shown (K = books shown).\n"
            "- **Dislike rate** = disliked books / books shown, over rated requests.\n"
            "- **Hit rate** = share of rated requests with at least one like.\n"
            "- **MRR** = mean over rated requests of 1 / rank of the best-ranked like (0 without a like).\n"
            "- **Like rate by position** = share of rated requests whose book at that rank was liked.\n"
            f"- **Recall@{controls.recall_k} (favourites)**: a book a reader names in a later `/predict` "
            "(same userid) that none of their earlier requests named is an *added favourite*; it is a hit "
            f"when an earlier recommendation to that reader showed it in its top {controls.recall_k}. "
            "Per version: favourites added after that version served the reader, hits among its "
            "recommendations.\n"
            "- **Offline** columns come from each version's manifest (held-out users; `fav3` gives 3 liked "
            "books, `fold80` 80% of them)."
        )


def arms_section(
    data: WindowData, registry: RegistryView, controls: Controls, key: tuple[object, ...], ttl_s: int
) -> None:
    """Production and challenger side by side: online figures, intervals, verdict, offline metrics."""
    sample_note_for(data)
    min_readers = int(
        st.number_input(
            "Readers each arm needs before a verdict",
            min_value=1,
            max_value=1_000_000,
            value=DEFAULT_MIN_READERS,
            key="min_readers",
        )
    )
    view = cached_arms_builder(ttl_s)(data, registry, key, controls.recall_k, min_readers)
    st.dataframe(view.served, hide_index=True, key="arms_served")
    comparison = view.comparison
    if comparison is None:
        st.info(
            "No challenger traffic in this window. Name one with `registry_cli challenge <version>` and "
            "send it a share of readers with `READCRUMBS_CHALLENGER_SHARE` on the backend."
        )
    else:
        if view.shadow:
            st.caption(
                "Shadow mode: readers saw production's lists only, so the challenger is judged by Recall@K "
                "of later favourites against the lists it would have shown; its other figures stay empty."
            )
        banner = {BETTER: st.success, WORSE: st.error}.get(comparison.verdict, st.info)
        banner(f"**{comparison.verdict}** — {comparison.reason}.")
        st.dataframe(comparison_table(comparison), hide_index=True, key="arms_table")
        changes = relative_changes(comparison)
        if not changes.empty:
            st.plotly_chart(charts.arm_changes(changes), key="arms_chart")
    st.markdown("**Offline metrics of each arm's model version** (held-out readers, from the manifests)")
    st.dataframe(view.offline, hide_index=True, key="arms_offline")
    with st.expander("Definitions"):
        confidence = 95 if comparison is None else round(comparison.confidence * 100)
        st.markdown(
            "Each request is answered by one **arm**: `production`, or `challenger` for the share of "
            "readers the backend sends to it (a stable hash of `userid`, so a reader stays in one arm). "
            "Figures per arm follow the Quality tab's definitions (rated requests; Recall@K of later "
            "favourites counts a favourite for the arm that had answered the reader before).\n"
            f"- **Like rate** and **hit rate**: {Z_TEST} with reader-clustered standard errors (a "
            "reader's votes move together, so errors come from readers' totals, not from each book as "
            "an independent trial); normal intervals per arm and for the difference. Like rate counts "
            "each shown book of a rated request, hit rate each rated request.\n"
            f"- **MRR** and **Recall@K**: seeded percentile {BOOTSTRAP_READERS} (each arm resampled on its "
            f"own; readers' requests stay together); **mean latency**: {BOOTSTRAP_REQUESTS}. The p-value is "
            "twice the smaller share of resampled differences on either side of zero.\n"
            f"- Intervals are {confidence} %. A metric's verdict is *challenger better/worse* when p < "
            f"{100 - confidence} % in the direction the metric improves (lower latency is better), else *not "
            f"yet distinguishable*. Nothing is decided until each arm has {min_readers} readers. The "
            "overall verdict weighs like rate, hit rate, MRR and Recall@K (latency is shown beside them): "
            "worse when any is significantly worse, better when one is better and none worse.\n"
            "- In **shadow mode** (`READCRUMBS_CHALLENGER_MODE=shadow`) readers see production's list only, "
            "so those requests count as production's, and the challenger is compared by Recall@K of "
            "later favourites against the lists it would have shown (arm `shadow`).\n"
            "- `registry_cli promote <version> --online` uses the same comparison."
        )


def sample_note_for(data: WindowData) -> None:
    """Say which predictions the arm comparison saw."""
    if data.sampled:
        st.caption(
            f"Computed on the {len(data.recent):,} most recent predictions of the window "
            f"(of {data.traffic.requests:,}) and the feedback since the first of them."
        )
    else:
        st.caption(f"Computed on all {len(data.recent):,} predictions of the window and their feedback.")


def catalogue_section(report: Report) -> None:
    """Coverage, the most recommended and requested books, popularity bias."""
    sample_note(report)
    cols = st.columns(4)
    cols[0].metric("Coverage", percent(report.coverage))
    cols[1].metric("Distinct books recommended", f"{report.distinct_recommended:,}")
    cols[2].metric("Catalogue size", "—" if report.catalogue_size is None else f"{report.catalogue_size:,}")
    bias = report.popularity_bias
    cols[3].metric(
        "Popularity pct: recommended",
        "—" if bias is None else number(bias.recommended_pct, 1),
        delta=None if bias is None or math.isnan(bias.lift) else f"{bias.lift:+.1f} vs requested",
        delta_color="off",
    )
    left, right = st.columns(2)
    left.markdown("**Most recommended**")
    left.dataframe(report.top_recommended, hide_index=True, key="top_recommended")
    right.markdown("**Most requested**")
    right.dataframe(report.top_requested, hide_index=True, key="top_requested")
    if report.popularity_histogram is not None:
        st.plotly_chart(charts.popularity_histogram(report.popularity_histogram), key="popularity_chart")
    with st.expander("Definitions"):
        st.markdown(
            "- **Coverage** = distinct catalogue books recommended / books in the production catalogue.\n"
            "- **Popularity percentile** = the book's percentile rank by likes in the training data "
            "(100 = most liked); the bias compares the mean over recommendations with the mean over the "
            "books readers asked with."
        )


def drift_verdict(result: drift.DriftResult, ordered: bool) -> str:
    """One markdown line: PSI with its coloured level, and KS when the feature is ordered."""
    level = result.level
    line = f"PSI **{number(result.psi)}** — :{LEVEL_COLOURS[level]}[**{level}**]"
    if ordered:
        rejected = not math.isnan(result.ks_pvalue) and result.ks_pvalue < drift.KS_ALPHA
        verdict = ":red[**drift**]" if rejected else ":green[**no evidence of drift**]"
        if math.isnan(result.ks_pvalue):
            verdict = ":gray[**no data**]"
        line += f"  ·  KS D = {number(result.ks_statistic)}, p = {result.ks_pvalue:.3g} — {verdict}"
    return line


def drift_section(report: Report) -> None:
    """Requested popularity and genres against the training data; unknown titles over time."""
    sample_note(report)
    if report.popularity_drift is None or report.genre_drift is None:
        st.info("No training catalogue is available, so drift cannot be measured (see the note above).")
    else:
        left, right = st.columns(2)
        left.markdown("**Popularity of requested books**")
        left.markdown(drift_verdict(report.popularity_drift, ordered=True))
        left.plotly_chart(
            charts.drift_bins(report.popularity_drift, "Popularity percentile bins"), key="pop_drift"
        )
        right.markdown("**Genres of requested books**")
        right.markdown(drift_verdict(report.genre_drift, ordered=False))
        right.plotly_chart(charts.drift_bins(report.genre_drift, "Top training genres"), key="genre_drift")
    st.plotly_chart(charts.unknown_share(report.unknown_over_time, report.bucket), key="unknown_chart")
    with st.expander("Definitions"):
        st.markdown(
            "- **Training data** = the production model's catalogue, each book weighted by its likes in the "
            "training interactions (so it is distributed as the interactions are). **Requested** = every "
            "book readers named, once per request.\n"
            f"- **PSI** = Σ (requested − training) · ln(requested / training) over bins (popularity: the "
            f"training deciles; genres: the top training genres plus one bin for the rest): "
            f"< {drift.PSI_MODERATE} stable, {drift.PSI_MODERATE}–{drift.PSI_DRIFT} moderate, "
            f"> {drift.PSI_DRIFT} drift.\n"
            f"- **KS** = two-sample Kolmogorov–Smirnov test of popularity percentiles (training side: "
            f"10,000 weighted quantiles); drift when p < {drift.KS_ALPHA}. Genres have no order: PSI only.\n"
            "- **Unknown titles** = typed titles that matched no book / all typed titles, per time bucket."
        )


def versions_only(registry: RegistryView) -> None:
    """The registry's versions when there is no traffic to show beside them."""
    if registry.manifests:
        st.subheader("Registered model versions")
        rows = [
            {
                "version": m.version,
                "model_type": m.model_type,
                "created_at": m.created_at,
                "production": m.version == registry.production,
                "fav3 recall@10": m.metric(),
            }
            for m in registry.manifests
        ]
        st.dataframe(pd.DataFrame(rows), hide_index=True, key="registry_table")


# -- page --------------------------------------------------------------------------------------
def main() -> None:
    """Lay out the dashboard for the sidebar's choices."""
    st.set_page_config(page_title="ReadCrumbs · operations", page_icon="📈", layout="wide")
    st.session_state["rendered_at"] = time.monotonic()
    settings = get_settings()
    controls = sidebar_controls(settings)
    st.title("ReadCrumbs · operations")
    events_url = settings.resolved_events_url
    registry = registry_view(settings.resolved_registry_url, settings.model_name)
    if registry.problem:
        st.info(registry.problem)
    try:
        data = cached_window_loader(settings.dashboard_cache_ttl_s)(
            events_url, controls.window.start, controls.window.end, controls.sample_size
        )
    except ReadCrumbsError as exc:
        st.error(f"The event store at {events_url} cannot be read: {exc}")
        versions_only(registry)
        return
    versions = version_filter(data, registry)
    if versions is not None:
        try:
            narrowed = cached_traffic_loader(settings.dashboard_cache_ttl_s)(
                events_url, controls.window.start, controls.window.end, data.bucket, tuple(versions)
            )
        except ReadCrumbsError as exc:
            st.error(f"The event store at {events_url} cannot be read: {exc}")
            return
        data = only_versions(data, versions, narrowed)
    report = build_report(data, registry, ReportOptions(controls.slo_ms, controls.recall_k))
    start, end = controls.window.start or "the first record", controls.window.end or "now"
    st.caption(f"{controls.window_label}: {start} to {end} (UTC) · events: {events_url}")
    if controls.auto_refresh:
        auto_refresh(settings.dashboard_refresh_s)
    if report.requests == 0:
        st.info(
            "No predictions in this window yet. Ask the backend for recommendations, or widen the window."
        )
        versions_only(registry)
        return
    headline(report, controls)
    traffic_tab, quality_tab, arms_tab, catalogue_tab, drift_tab = st.tabs(
        ["Traffic & latency", "Quality from feedback", "Arms", "Catalogue health", "Drift"]
    )
    with traffic_tab:
        traffic_section(report, controls)
    with quality_tab:
        quality_section(report, controls)
    with arms_tab:
        key = (
            events_url,
            controls.window.start,
            controls.window.end,
            controls.sample_size,
            tuple(versions or ()),
            registry.production,
            registry.challenger,
        )
        arms_section(data, registry, controls, key, settings.dashboard_cache_ttl_s)
    with catalogue_tab:
        catalogue_section(report)
    with drift_tab:
        drift_section(report)


if __name__ == "__main__":
    main()
