// Report charts (Apache ECharts). Every `[data-report-chart]` holds its spec as JSON in a
// <script type="application/json"> (reports/views/chart.py: labels, values, each value formatted
// in the viewer's locale, the locale and currency for axis ticks, the drill URL). Charts render
// on page load and after every htmx swap, resize with their container, and a click on a bar,
// slice or point opens its records.
(function () {
  // One palette everywhere, so a series keeps its colour from one chart to the next.
  const PALETTE = ["#1b8a6b", "#3b7dd8", "#f0a030", "#8a63d2", "#e05a6a", "#25aebf", "#a3b93a", "#d9708f", "#5e6ad2", "#c58a3c"];
  const NO_VALUE = "#adb5bd";

  function numberFormat(spec, compact) {
    const options = compact ? { notation: "compact", maximumFractionDigits: 1 } : { maximumFractionDigits: 2 };
    if (spec.format === "currency") Object.assign(options, { style: "currency", currency: spec.currency || "USD" });
    if (spec.format === "percent") Object.assign(options, { style: "percent", maximumFractionDigits: 1 });
    try {
      return new Intl.NumberFormat(spec.locale, options);
    } catch (error) {
      return new Intl.NumberFormat(undefined, options);
    }
  }

  function colorOf(key, index) {
    return key === "" ? NO_VALUE : PALETTE[index % PALETTE.length];
  }

  function tooltip(spec) {
    return {
      trigger: spec.type === "donut" ? "item" : "axis",
      confine: true,
      axisPointer: { type: spec.type === "line" || spec.type === "area" ? "line" : "shadow" },
      formatter(params) {
        const items = Array.isArray(params) ? params : [params];
        if (!items.length) return "";
        const index = items[0].dataIndex;
        const title = spec.categories[index];
        const lines = items
          .filter((item) => item.seriesIndex !== undefined)
          .map((item) => {
            const series = spec.series[item.seriesIndex];
            const text = series.labels[item.dataIndex];
            const name = spec.type === "donut" ? (spec.series.length > 1 ? series.name : "") : series.name;
            const share = spec.type === "donut" && item.percent !== undefined ? ` (${numberFormat({ ...spec, format: "percent" }).format(item.percent / 100)})` : "";
            return `${item.marker}${escape(name)}${name ? ": " : ""}<b>${escape(text)}</b>${share}`;
          });
        return `<div class="fw-semibold mb-1">${escape(title)}</div>${lines.join("<br>")}`;
      },
    };
  }

  // ECharts' rich text reads braces and bars as markup.
  function richSafe(text) {
    return String(text ?? "").replace(/[{}|]/g, " ");
  }

  function escape(text) {
    return String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  }

  // The donut's total in its hole (pixels: ECharts places graphics by their box, not their centre).
  function centreText(spec, width, height, center) {
    const x = (parseFloat(center[0]) / 100) * width;
    const y = (parseFloat(center[1]) / 100) * height;
    // the hole is 48% of the radius; the number fits in it (about 0.6 em per character)
    const hole = 0.48 * (Math.min(width, height) / 2);
    const size = Math.max(10, Math.min(18, Math.floor((1.7 * hole) / (0.6 * Math.max(1, spec.total.length)))));
    const text = (content, dy, font, fill) => ({
      type: "text",
      x,
      y: y + dy,
      silent: true,
      style: { text: content, font, fill, align: "center", verticalAlign: "middle", textAlign: "center", textVerticalAlign: "middle" },
    });
    return [
      text(spec.total, -8, `600 ${size}px system-ui, sans-serif`, "#212529"),
      text(spec.totalLabel, 14, "12px system-ui, sans-serif", "#6c757d"),
    ];
  }

  function option(spec, width, height) {
    const ticks = numberFormat(spec, true);
    const many = spec.series.length > 1;
    const base = {
      color: PALETTE,
      animationDuration: 300,
      aria: { enabled: true },
      tooltip: tooltip(spec),
      textStyle: { fontFamily: "inherit" },
    };
    if (spec.type === "donut") {
      const series = spec.series[0];
      const wide = width > 520;
      const labels = Object.fromEntries(spec.categories.map((name, i) => [name, series.labels[i]]));
      const center = wide ? ["34%", "50%"] : ["50%", "44%"];
      return {
        ...base,
        legend: {
          type: "scroll",
          orient: wide ? "vertical" : "horizontal",
          left: wide ? "62%" : "center",
          top: wide ? "middle" : undefined,
          bottom: wide ? undefined : 0,
          itemGap: 10,
          textStyle: wide
            ? { fontSize: 12, rich: { name: { width: 120, fontSize: 12 }, value: { fontSize: 12, fontWeight: 600, align: "right" } } }
            : { fontSize: 12 },
          // beside the chart: name and value in columns; under it (narrow): the names only
          formatter: (name) => (wide ? `{name|${richSafe(name)}} {value|${richSafe(labels[name] ?? "")}}` : name),
        },
        graphic: spec.total ? centreText(spec, width, height, center) : [],
        series: [
          {
            type: "pie",
            name: series.name,
            radius: ["48%", "72%"],
            center,
            avoidLabelOverlap: true,
            label: { show: false },
            labelLine: { show: false },
            itemStyle: { borderColor: "#fff", borderWidth: 2 },
            cursor: spec.drill ? "pointer" : "default",
            data: spec.categories.map((name, i) => ({ name, value: series.values[i], itemStyle: { color: colorOf(spec.keys[i], i) } })),
          },
        ],
      };
    }
    const line = spec.type === "line" || spec.type === "area";
    const horizontal = !line && spec.categories.length > 12 && !spec.keys.every((k) => k === "" || /^\d{4}-\d{2}-\d{2}$/.test(k));
    const categoryAxis = {
      type: "category",
      data: spec.categories,
      name: horizontal ? "" : spec.categoryTitle,
      nameLocation: "middle",
      nameGap: 28,
      boundaryGap: !line,
      axisTick: { show: false },
      axisLine: { lineStyle: { color: "#ced4da" } },
      axisLabel: {
        color: "#6c757d",
        hideOverlap: true,
        fontSize: 11,
        width: horizontal ? 140 : Math.max(64, Math.min(160, (width - 80) / Math.max(1, spec.categories.length))),
        overflow: "truncate",
      },
      inverse: horizontal,
    };
    const integers = spec.format === "number" && spec.series.every((s) => s.values.every((v) => v === null || Number.isInteger(v)));
    const valueAxis = {
      type: "value",
      // A line (not an area or a bar) reads its changes: from zero, 97 % and 102 % look the same.
      scale: spec.type === "line",
      minInterval: integers ? 1 : undefined,
      splitLine: { lineStyle: { color: "#eef0f2" } },
      axisLabel: { color: "#6c757d", fontSize: 11, formatter: (value) => ticks.format(value) },
    };
    const stacked = spec.type === "stacked_bar" || (spec.type === "area" && many);
    return {
      ...base,
      legend: many ? { type: "scroll", top: 0, textStyle: { fontSize: 12 } } : undefined,
      grid: { left: 8, right: 16, top: many ? 36 : 12, bottom: horizontal ? 8 : 36, containLabel: true },
      xAxis: horizontal ? valueAxis : categoryAxis,
      yAxis: horizontal ? categoryAxis : valueAxis,
      series: spec.series.map((series, index) => ({
        type: line ? "line" : "bar",
        name: series.name,
        data: series.values,
        stack: stacked ? "total" : undefined,
        smooth: false,
        connectNulls: false,
        showSymbol: series.values.length <= 40,
        symbolSize: 6,
        areaStyle: spec.type === "area" ? { opacity: many ? 0.55 : 0.18 } : undefined,
        barMaxWidth: 48,
        itemStyle: { color: colorOf(series.key === "value" ? null : series.key, index), borderRadius: stacked || horizontal ? 0 : [3, 3, 0, 0] },
        emphasis: { focus: many ? "series" : "none" },
        cursor: spec.drill ? "pointer" : "default",
      })),
    };
  }

  function drill(spec, params) {
    if (!spec.drill || params.dataIndex === undefined || !spec.drillable[params.dataIndex]) return;
    const url = new URL(spec.drill, window.location.origin);
    url.searchParams.set("category", spec.keys[params.dataIndex]);
    const series = spec.series[params.seriesIndex || 0];
    if (series && series.drill && spec.type !== "donut") url.searchParams.set("series", series.key);
    window.location.assign(url.toString());
  }

  // The spec of each drawn chart: a resize draws it again for its new size (legend, labels, centre).
  const specs = new WeakMap();
  const observer = typeof ResizeObserver === "undefined" ? null : new ResizeObserver((entries) => {
    entries.forEach((entry) => {
      const chart = window.echarts && echarts.getInstanceByDom(entry.target);
      if (!chart || entry.contentRect.width === 0) return;
      chart.resize();
      const spec = specs.get(entry.target);
      if (spec) chart.setOption(option(spec, entry.contentRect.width, entry.contentRect.height), true);
    });
  });

  function render(root) {
    if (typeof echarts === "undefined" || !root || !root.querySelectorAll) return;
    const holders = [...root.querySelectorAll("[data-report-chart]")];
    if (root.matches && root.matches("[data-report-chart]")) holders.push(root);
    holders.forEach((holder) => {
      const script = holder.querySelector('script[type="application/json"]');
      const canvas = holder.querySelector("[data-report-canvas]");
      if (!script || !canvas || holder.getAttribute("data-rendered") === "true") return;
      const spec = JSON.parse(script.textContent);
      const chart = echarts.getInstanceByDom(canvas) || echarts.init(canvas, null, { renderer: "canvas" });
      chart.setOption(option(spec, canvas.clientWidth, canvas.clientHeight), true);
      specs.set(canvas, spec);
      chart.off("click");
      chart.on("click", (params) => drill(spec, params));
      if (observer) observer.observe(canvas);
      holder.setAttribute("data-rendered", "true");
    });
  }

  function dispose(root) {
    if (typeof echarts === "undefined" || !root || !root.querySelectorAll) return;
    root.querySelectorAll("[data-report-canvas]").forEach((canvas) => {
      const chart = echarts.getInstanceByDom(canvas);
      if (observer) observer.unobserve(canvas);
      if (chart) chart.dispose();
    });
  }

  document.addEventListener("DOMContentLoaded", () => render(document));
  // Charts already drawn are skipped, so the whole document is looked at after each swap (an
  // outerHTML swap's event names the element it replaced).
  document.addEventListener("htmx:afterSwap", () => render(document));
  document.addEventListener("htmx:afterSettle", () => render(document));
  document.addEventListener("htmx:beforeCleanupElement", (event) => dispose(event.detail.elt));
  window.tendReports = { render, option };

  // The builder: the views bar's filter dialog sets the report's filter (a hidden field) instead of
  // reloading a list; the change re-draws the preview, which sends the filter's summary back.
  document.addEventListener("submit", (event) => {
    const dialog = event.target.closest && event.target.closest("#filters-modal form");
    const builder = document.querySelector("[data-report-builder]");
    if (!dialog || !builder) return;
    event.preventDefault();
    const input = builder.querySelector("input[name=filters]");
    input.value = dialog.querySelector("input[name=filters]").value || "";
    input.dispatchEvent(new Event("change", { bubbles: true }));
    bootstrap.Modal.getOrCreateInstance(document.getElementById("filters-modal")).hide();
  });

  // The preview answers with each field's error out of band: mark the fields they describe.
  function markInvalid() {
    document.querySelectorAll("[data-report-builder] .field-error").forEach((error) => {
      const invalid = error.textContent.trim() !== "";
      document.querySelectorAll(`[aria-describedby~="${error.id}"]`).forEach((control) => {
        if (control.matches("input, select, textarea")) control.classList.toggle("is-invalid", invalid);
      });
    });
  }
  document.addEventListener("htmx:afterSettle", markInvalid);
})();
