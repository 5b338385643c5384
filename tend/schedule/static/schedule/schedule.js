// The Schedule tab: FullCalendar fed by /schedule/events/ in the chosen IANA time zone.
// No time zone plugin: for a named zone FullCalendar sends wall times with a `tz` parameter and
// shows the times the server answers in that zone as they are; "now" (today, the now line) is
// computed here in that zone with Intl.
(function () {
  "use strict";
  const VIEW_KEY = "tend.schedule.view";
  const WEEKENDS_KEY = "tend.schedule.hideWeekends";
  const VIEWS = ["timeGridDay", "timeGridWeek", "dayGridMonth"];

  function wallTime(zone) {
    const parts = {};
    new Intl.DateTimeFormat("en-US", {
      timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    }).formatToParts(new Date()).forEach((p) => { parts[p.type] = p.value; });
    return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}`;
  }

  function stored(key) {
    try { return window.localStorage.getItem(key); } catch (e) { return null; }
  }
  function store(key, value) {
    try { window.localStorage.setItem(key, value); } catch (e) { /* private mode: not remembered */ }
  }

  function init() {
    const el = document.getElementById("calendar");
    if (!el || !window.FullCalendar) return;
    const zones = new Set(Array.from(document.querySelectorAll("#schedule-tz-list option"), (o) => o.value));
    const tzInput = document.getElementById("schedule-tz");
    const tzError = document.getElementById("schedule-tz-help");
    const weekendsBox = document.getElementById("schedule-hide-weekends");
    const loadError = document.getElementById("schedule-load-error");
    const canSchedule = el.dataset.canSchedule === "true";
    let zone = el.dataset.tz;
    const savedView = stored(VIEW_KEY);
    const hideWeekends = stored(WEEKENDS_KEY) === "1";
    weekendsBox.checked = hideWeekends;

    function openPanel(url, params) {
      const query = new URLSearchParams(Object.assign({ tz: zone }, params || {}));
      htmx.ajax("GET", `${url}?${query}`, { target: "#side-panel-body", swap: "innerHTML" });
    }

    const calendar = new FullCalendar.Calendar(el, {
      initialView: VIEWS.includes(savedView) ? savedView : "timeGridWeek",
      timeZone: zone,
      timeZoneParam: "tz",
      now: () => wallTime(zone),
      locale: el.dataset.locale || "en",
      headerToolbar: { left: "prev,next today", center: "title", right: "timeGridDay,timeGridWeek,dayGridMonth" },
      weekends: !hideWeekends,
      views: { timeGridDay: { weekends: true } },  // a day view always shows the day asked for
      height: "calc(100vh - 11rem)",  // the time grid scrolls inside; month rows stretch to fit
      expandRows: true,
      nowIndicator: true,
      navLinks: true,  // a day's number or heading opens that day
      scrollTime: "08:00:00",
      dayMaxEvents: true,
      selectable: canSchedule,
      selectMirror: true,
      eventTimeFormat: { hour: "2-digit", minute: "2-digit", hour12: false },
      slotLabelFormat: { hour: "2-digit", minute: "2-digit", hour12: false },
      events: {
        url: el.dataset.eventsUrl,
        failure: () => { loadError.hidden = false; },
        success: (data) => { loadError.hidden = true; return data; },
      },
      eventDidMount: (info) => {
        info.el.dataset.testid = "calendar-event";
        info.el.dataset.kind = info.event.extendedProps.kind;
        info.el.setAttribute("title", info.event.extendedProps.done ? `${el.dataset.labelDone}: ${info.event.title}` : info.event.title);
      },
      eventClick: (info) => {
        info.jsEvent.preventDefault();
        openPanel(info.event.extendedProps.summaryUrl);
      },
      select: (info) => {
        openPanel(el.dataset.meetingUrl, { start: info.startStr, end: info.endStr });
        calendar.unselect();
      },
      datesSet: (info) => {
        store(VIEW_KEY, info.view.type);
        weekendsBox.disabled = info.view.type === "timeGridDay";
      },
    });
    calendar.render();

    function setZone(value) {
      if (!zones.has(value)) {
        tzError.hidden = false;
        tzInput.classList.add("is-invalid");
        return;
      }
      tzError.hidden = true;
      tzInput.classList.remove("is-invalid");
      if (value === zone) return;
      zone = value;
      calendar.setOption("timeZone", value);
      calendar.refetchEvents();
      const url = new URL(window.location.href);
      url.searchParams.set("tz", value);
      window.history.replaceState(null, "", url);
    }
    tzInput.addEventListener("change", () => setZone(tzInput.value.trim()));
    tzInput.addEventListener("keydown", (event) => {
      if (event.key === "Enter") { event.preventDefault(); setZone(tzInput.value.trim()); }
    });
    document.querySelectorAll("[data-tz-reset]").forEach((button) => button.addEventListener("click", () => {
      tzInput.value = button.dataset.tzReset;
      setZone(button.dataset.tzReset);
      button.remove();
    }));
    weekendsBox.addEventListener("change", () => {
      store(WEEKENDS_KEY, weekendsBox.checked ? "1" : "0");
      calendar.setOption("weekends", !weekendsBox.checked);
    });
    const scheduleButton = document.getElementById("schedule-meeting-button");
    if (scheduleButton) scheduleButton.addEventListener("click", () => openPanel(el.dataset.meetingUrl));
    // A meeting scheduled or changed in the side panel: show it.
    document.body.addEventListener("tend:schedule-changed", () => calendar.refetchEvents());
    // Summaries of items deleted meanwhile (404) and refusals (403) explain themselves in the panel.
    document.body.addEventListener("htmx:beforeSwap", (event) => {
      const status = event.detail.xhr.status;
      if (event.detail.target && event.detail.target.id === "side-panel-body" && (status === 403 || status === 404)) {
        event.detail.shouldSwap = true;
        event.detail.isError = false;
      }
    });
    window.tendCalendar = calendar;
  }

  document.addEventListener("DOMContentLoaded", init);
})();
