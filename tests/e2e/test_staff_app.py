"""A clinician's day in the web app, against the real API: sign in and out, find patients, read their
charts (the plotted points are the summary endpoint's figures), edit details safely (If-Match, 412), the
care team, record and delete gauges (422 messages beside the fields), and every error state."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from clinic import accounts
from e2e_support import (
    api,
    check_accessibility,
    local_storage,
    plotted,
    screenshot,
    session_storage,
    sign_in,
)
from playwright.sync_api import Page, expect


def _new_patient(site, token: str, **fields) -> dict:
    body = {"first_name": "Test", "last_name": "Patient", "date_of_birth": "1980-02-03", **fields}
    reply = api(site, "POST", "/v1/patients", token, {"patient": body})
    assert reply.status_code == 201, reply.text
    return reply.json()


def test_sign_in_keeps_the_token_in_session_storage_only_and_sign_out_clears_it(page: Page, site) -> None:
    token = site.tokens["admin"]
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    check_accessibility(page, "the sign-in page")

    page.get_by_label("Access token").fill("not-a-real-token-" + "x" * 30)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Access token was not accepted")).to_be_visible()
    assert session_storage(page) == {}

    page.get_by_label("Access token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Patients", level=1)).to_be_visible()
    stored = session_storage(page)
    assert set(stored) == {"patients.token", "patients.user"} and stored["patients.token"] == token
    assert json.loads(stored["patients.user"])["role"] in ("admin", "staff")  # "staff" while /v1/me is absent
    assert token not in stored["patients.user"]
    assert local_storage(page) == {}
    assert token not in page.url

    page.reload()  # the session survives a reload of the tab
    expect(page.get_by_role("heading", name="Patients", level=1)).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    assert session_storage(page) == {}
    page.go_back()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("table")).to_have_count(0)


def _names(page: Page) -> list[str]:
    return page.locator("table.patients tbody th").all_inner_texts()


def _api_names(site, token: str, **query) -> tuple[list[str], dict]:
    reply = api(site, "GET", "/v1/patients?" + "&".join(f"{k}={v}" for k, v in query.items()), token)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    return [f"{p['last_name']}, {p['first_name']}" for p in body["patients"]], body["meta"]


def test_patient_list_searches_as_you_type_filters_by_status_and_pages_by_cursor(page: Page, site) -> None:
    token = site.tokens["admin"]
    inactive = _new_patient(site, token, first_name="Ivy", last_name="Inactive")
    assert api(site, "PUT", f"/v1/patients/{inactive['id']}", token, {"patient": {"active": False}}).status_code == 200
    sign_in(page, token)
    check_accessibility(page, "the patient list")

    search = page.get_by_label("Search")
    search.press_sequentially("do", delay=30)  # no Enter: the list follows the typing
    expect(page.locator("table.patients tbody tr")).to_have_count(3)
    assert _names(page) == _api_names(site, token, search="do")[0] == ["Doe, John", "Domínguez, Luis", "Dorsey, Dora"]
    search.press_sequentially("rs", delay=30)
    expect(page.locator("table.patients tbody tr")).to_have_count(1)
    assert _names(page) == ["Dorsey, Dora"]
    search.fill("john@example.com")
    expect(page.locator("table.patients tbody th")).to_have_text(["Doe, John"])
    search.fill("zzz")
    expect(page.get_by_text("No patient matches “zzz”.")).to_be_visible()
    search.fill("x" * 101)
    expect(page.get_by_text("Search is too long (maximum is 100 characters)")).to_be_visible()

    search.fill("ivy")
    expect(page.get_by_text("No patient matches “ivy”.")).to_be_visible()
    page.get_by_label("Status").select_option("inactive")
    expect(page.locator("table.patients tbody th")).to_have_text(["Inactive, Ivy"])
    expect(page.locator("table.patients tbody td .badge")).to_have_text(["Inactive"])
    page.get_by_label("Status").select_option("all")
    expect(page.locator("table.patients tbody th")).to_have_text(["Inactive, Ivy"])

    # Paging follows the API's cursors: each page is exactly the API's page.
    page.get_by_label("Status").select_option("active")
    search.fill("")
    first, meta = _api_names(site, token, page_size=25)
    second, _ = _api_names(site, token, page_size=25, cursor=meta["next_cursor"])
    assert meta["has_more"] and len(first) == 25 and second
    expect(page.locator("table.patients tbody th")).to_have_text(first)
    page.get_by_role("button", name="Next page").click()
    expect(page.locator("table.patients tbody th")).to_have_text(second)
    expect(page.get_by_text("Page 2", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Next page")).to_be_disabled()
    page.get_by_role("button", name="Previous page").click()
    expect(page.locator("table.patients tbody th")).to_have_text(first)


def _summaries_by_type(site, token: str, patient_id: int, **query) -> dict[str, list[dict]]:
    path = f"/v1/patients/{patient_id}/gauges/summary?" + "&".join(f"{k}={v}" for k, v in query.items())
    reply = api(site, "GET", path, token)
    assert reply.status_code == 200, reply.text
    out: dict[str, list[dict]] = {}
    for row in reply.json()["summaries"]:
        out.setdefault(row["gauge_type"], []).append(row)
    return out


def _epoch(day: str) -> int:
    return int(datetime.fromisoformat(day + "T00:00:00+00:00").timestamp())


def _assert_charts_equal_summaries(page: Page, expected: dict[str, list[dict]]) -> None:
    # Charts keep showing the last figures while new ones load: compare once nothing is loading.
    expect(page.locator('section[aria-labelledby="trends-heading"] .charts')).to_have_attribute("aria-busy", "false")
    expect(page.locator("[data-chart^=means-]")).to_have_count(len(expected))
    for gauge_type, rows in expected.items():
        xs, means, lows, highs = plotted(page, f"means-{gauge_type}")
        drawn = {x: (m, lo, hi) for x, m, lo, hi in zip(xs, means, lows, highs, strict=True) if m is not None}
        assert drawn == {_epoch(r["period_start"]): (r["mean"], r["min"], r["max"]) for r in rows}, gauge_type
        # Periods without gauges are gaps, never zeros.
        assert all(lo is None and hi is None for m, lo, hi in zip(means, lows, highs, strict=True) if m is None)


def test_charts_plot_exactly_the_summary_endpoints_figures_daily_and_weekly(page: Page, site) -> None:
    token = site.tokens["provider"]
    john = site.patient_ids[0]
    zone = ZoneInfo(api(site, "GET", f"/v1/patients/{john}", token).json()["time_zone"])
    today = datetime.now(zone).date()
    sign_in(page, token)
    page.get_by_role("link", name="Doe, John").click()
    expect(page.get_by_role("heading", name="John Doe")).to_be_visible()

    start = today - timedelta(days=29)
    daily = _summaries_by_type(site, token, john, period="day", start_date=start, end_date=today)
    assert set(daily) >= {"mood", "anxiety", "pain", "sleep_quality", "medication_adherence"}
    _assert_charts_equal_summaries(page, daily)
    xs = plotted(page, "means-mood")[0]
    assert xs[0] == _epoch(start.isoformat()) and xs[-1] == _epoch(today.isoformat()) and len(xs) == 30
    check_accessibility(page, "the patient's trends")
    screenshot(page, "patient")

    page.get_by_text("Weekly", exact=True).click()
    monday = start - timedelta(days=start.weekday())
    weekly = _summaries_by_type(site, token, john, period="week", start_date=monday, end_date=today)
    expect(page.get_by_role("heading", name="Weekly means")).to_be_visible()
    _assert_charts_equal_summaries(page, weekly)

    page.get_by_label("Date range").select_option("custom")
    page.get_by_label("From", exact=True).fill((today - timedelta(days=13)).isoformat())
    page.get_by_label("To", exact=True).fill((today - timedelta(days=7)).isoformat())
    page.get_by_text("Daily", exact=True).click()
    narrow = _summaries_by_type(
        site, token, john, period="day", start_date=today - timedelta(days=13), end_date=today - timedelta(days=7)
    )
    expect(page.locator('[data-chart="means-mood"]')).to_have_count(1)
    page.wait_for_function(
        "n => document.querySelector('[data-chart=\"means-mood\"]').uplot.data[0].length === n", arg=7
    )
    _assert_charts_equal_summaries(page, narrow)


def test_a_stale_edit_is_refused_with_a_clear_message_and_nothing_is_overwritten(page: Page, site) -> None:
    token = site.tokens["admin"]
    patient = _new_patient(site, token, first_name="Edith", last_name="Editable", phone="+1-555-000-0001")
    sign_in(page, token)
    page.goto(f"/#/patients/{patient['id']}/details")
    page.get_by_role("button", name="Edit details").click()
    check_accessibility(page, "the edit form")
    page.get_by_label("Phone").fill("+1-555-000-0002")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("+1-555-000-0002")).to_be_visible()
    assert api(site, "GET", f"/v1/patients/{patient['id']}", token).json()["phone"] == "+1-555-000-0002"

    # Someone else changes the patient while this form is open: saving it must not overwrite that.
    page.get_by_role("button", name="Edit details").click()
    page.get_by_label("Phone").fill("+1-555-000-0003")
    other = api(site, "PUT", f"/v1/patients/{patient['id']}", token, {"patient": {"email": "edith@example.com"}})
    assert other.status_code == 200
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Not saved: someone else changed this patient")).to_be_visible()
    check_accessibility(page, "the 412 message")
    stored = api(site, "GET", f"/v1/patients/{patient['id']}", token).json()
    assert (stored["phone"], stored["email"]) == ("+1-555-000-0002", "edith@example.com")

    page.get_by_role("button", name="Reload current details").click()
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("edith@example.com")).to_be_visible()

    # A 422 from the API is shown beside the field it concerns.
    page.get_by_role("button", name="Edit details").click()
    page.get_by_label("Email").fill("not an email")
    page.get_by_label("Date of birth").fill("2999-01-01")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Email is invalid")).to_be_visible()
    expect(page.get_by_text("Date of birth can't be in the future")).to_be_visible()
    expect(page.get_by_label("Email")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Date of birth")).to_be_focused()  # the first field marked, in form order


def test_care_team_lists_adds_and_removes_members(page: Page, site) -> None:
    token = site.tokens["admin"]
    patient = _new_patient(site, site.tokens["provider"], first_name="Carl", last_name="Careteam")
    sign_in(page, token)
    page.goto(f"/#/patients/{patient['id']}/details")
    team = page.locator("section", has=page.get_by_role("heading", name="Care team"))
    expect(team.locator(".team-name")).to_have_text(["Dr. Pat Provider"])

    team.get_by_label("User id").fill("abc")
    team.get_by_role("button", name="Add to care team").click()
    expect(team.get_by_text("User id must be a number")).to_be_visible()
    team.get_by_label("User id").fill(str(site.users["admin"]))
    team.get_by_role("button", name="Add to care team").click()
    expect(team.get_by_text("User id must be a provider or supervisor of this clinic")).to_be_visible()

    team.get_by_label("User id").fill(str(site.users["supervisor"]))
    team.get_by_role("button", name="Add to care team").click()
    expect(team.locator(".team-name")).to_have_count(2)
    members = api(site, "GET", f"/v1/patients/{patient['id']}/care_team", token).json()["care_team"]
    assert {m["user_id"] for m in members} == {site.users["provider"], site.users["supervisor"]}
    expect(team.locator(".team-name")).to_have_text([m["name"] for m in members])  # in the API's order
    check_accessibility(page, "the details and care team")

    team.get_by_role("button", name="Remove Sam Supervisor from the care team").click()
    expect(team.locator(".team-name")).to_have_text(["Dr. Pat Provider"])
    members = api(site, "GET", f"/v1/patients/{patient['id']}/care_team", token).json()["care_team"]
    assert [m["user_id"] for m in members] == [site.users["provider"]]


def test_record_a_gauge_in_the_patients_time_zone_see_it_listed_and_delete_it(page: Page, site) -> None:
    token = site.tokens["provider"]
    patient = _new_patient(site, token, first_name="Gail", last_name="Gauge", time_zone="Asia/Tokyo")
    sign_in(page, token)
    page.goto(f"/#/patients/{patient['id']}/gauges")
    expect(page.get_by_text("No gauges recorded.")).to_be_visible()

    # Every problem at once, each beside its field.
    page.get_by_label("Value", exact=True).fill("11")
    tomorrow = datetime.now(ZoneInfo("Asia/Tokyo")).date() + timedelta(days=1)
    page.get_by_label("When").fill(f"{tomorrow}T09:30")
    page.get_by_label("Notes").fill("n" * 2001)
    page.get_by_role("button", name="Record gauge").click()
    expect(page.get_by_text("Value must be between 1 and 10")).to_be_visible()
    expect(page.get_by_text("When can't be in the future")).to_be_visible()
    expect(page.get_by_text("Notes is too long (maximum is 2000 characters)")).to_be_visible()
    expect(page.get_by_label("Value", exact=True)).to_have_attribute("aria-invalid", "true")
    check_accessibility(page, "the gauge form with its errors")
    assert api(site, "GET", f"/v1/patients/{patient['id']}/gauges", token).json()["gauges"] == []

    # 09:30 yesterday in Tokyo, whatever the browser's own zone (Pacific/Auckland here).
    yesterday = date.today() - timedelta(days=1)
    page.get_by_label("Value", exact=True).fill("7")
    page.get_by_label("When").fill(f"{yesterday}T09:30")
    page.get_by_label("Notes").fill("After the new medication")
    page.get_by_role("button", name="Record gauge").click()
    expect(page.get_by_text(re.compile(r"Recorded mood 7 at .* 9:30 AM GMT\+9"))).to_be_visible()
    rows = page.locator("table.gauges tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("9:30 AM GMT+9")
    expect(rows.first).to_contain_text("After the new medication")
    stored = api(site, "GET", f"/v1/patients/{patient['id']}/gauges", token).json()["gauges"]
    expected_utc = datetime.fromisoformat(f"{yesterday}T09:30").replace(tzinfo=ZoneInfo("Asia/Tokyo"))
    assert [(g["value"], g["recorded_at"]) for g in stored] == [
        (7, expected_utc.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%S.000Z"))
    ]

    rows.first.get_by_role("button", name=re.compile("^Delete Mood 7")).click()
    rows.first.get_by_role("button", name=re.compile("^Confirm delete of Mood 7")).click()
    expect(page.get_by_text("No gauges recorded.")).to_be_visible()
    assert api(site, "GET", f"/v1/patients/{patient['id']}/gauges", token).json()["gauges"] == []


def test_error_states_404_403_503_and_401(page: Page, site) -> None:
    provider = site.tokens["provider"]
    sign_in(page, provider)
    page.goto("/#/patients/999999")
    expect(page.get_by_role("heading", name="Patient not found")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Patient not found")

    stranger = _new_patient(site, site.tokens["admin"], first_name="Nora", last_name="Noaccess")
    page.goto(f"/#/patients/{stranger['id']}")
    expect(page.get_by_text("You are not authorized to access this patient")).to_be_visible()
    check_accessibility(page, "the 403 state")

    # The API's 503 (storage throttled) once, then the user retries.
    unavailable = {"errors": "The service is temporarily unavailable, please retry"}
    calls = []

    def once(route) -> None:
        calls.append(route.request.url)
        if len(calls) == 1:
            route.fulfill(status=503, json=unavailable, headers={"Retry-After": "1"})
        else:
            route.continue_()

    page.route(re.compile(r".*/v1/patients\?.*"), once)
    page.goto("/#/patients")
    expect(page.get_by_text("The service is temporarily unavailable, please retry")).to_be_visible()
    page.get_by_role("button", name="Retry").click()
    expect(page.get_by_role("link", name="Doe, John")).to_be_visible()
    page.unroute(re.compile(r".*/v1/patients\?.*"))

    # A token revoked mid-session: the next request is 401, and the app returns to sign-in.
    user = accounts.create_user(site.clinic_id, "provider", "Dr. Short Session")
    token = accounts.issue_token(user["id"])["token"]
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, token)
    accounts.revoke_tokens(user["id"])
    page.get_by_label("Search").fill("do")
    expect(page.get_by_text("Your session has ended. Please sign in again.")).to_be_visible()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert session_storage(page) == {}


def test_every_staff_page_is_accessible_and_degrades_where_a_route_is_missing(page: Page, site) -> None:
    sign_in(page, site.tokens["admin"])
    for path, heading in (
        ("/#/patients/new", "New patient"),
        ("/#/alerts", "Alerts"),
        ("/#/alert-rules", "Alert rules"),
        (f"/#/patients/{site.patient_ids[0]}/gauges", "John Doe"),
        (f"/#/patients/{site.patient_ids[0]}/assessments", "John Doe"),
        (f"/#/patients/{site.patient_ids[0]}/alerts", "John Doe"),
        ("/#/nowhere", "Page not found"),
    ):
        page.goto(path)
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        expect(page.locator(".state-loading")).to_have_count(0)
        check_accessibility(page, path)


def test_create_a_patient_with_the_apis_messages_then_open_it(page: Page, site) -> None:
    sign_in(page, site.tokens["provider"])
    page.get_by_role("link", name="New patient").click()
    page.get_by_role("button", name="Create patient").click()
    expect(page.get_by_text("First name can't be blank")).to_be_visible()
    expect(page.get_by_text("Date of birth can't be blank; Date of birth must be a valid date")).to_be_visible()
    page.get_by_label("First name").fill("Nina")
    page.get_by_label("Last name").fill("Newcomer")
    page.get_by_label("Date of birth").fill("1991-07-08")
    page.get_by_label("Time zone").select_option("Europe/Berlin")
    page.get_by_role("button", name="Create patient").click()
    expect(page.get_by_role("heading", name="Nina Newcomer")).to_be_visible()
    expect(page.get_by_text("Times in Europe/Berlin")).to_be_visible()
    found = api(site, "GET", "/v1/patients?search=newcomer", site.tokens["provider"]).json()["patients"]
    assert [(p["first_name"], p["time_zone"]) for p in found] == [("Nina", "Europe/Berlin")]


def test_keyboard_alone_signs_in_finds_and_opens_a_patient(page: Page, site) -> None:
    page.goto("/")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Access token")).to_be_focused()
    page.keyboard.type(site.tokens["provider"])
    page.keyboard.press("Enter")
    heading = page.get_by_role("heading", name="Patients", level=1)
    expect(heading).to_be_focused()  # a new page moves focus to its heading

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="New patient")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Search")).to_be_focused()
    page.keyboard.type("dors")
    expect(page.locator("table.patients tbody th")).to_have_text(["Dorsey, Dora"])
    page.keyboard.press("Tab")
    expect(page.get_by_label("Status")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Dorsey, Dora")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Dora Dorsey", level=1)).to_be_focused()

    # On a freshly loaded page the skip link is the first stop, and it lands in the main content.
    page.reload()
    expect(page.get_by_role("heading", name="Dora Dorsey", level=1)).to_be_visible()
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
