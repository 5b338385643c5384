// The health screens' charts (Apache ECharts). An element with `data-health-chart` carries its
// data as JSON ({kind: "bar" | "line", labels, values, name}); charts render on page load and
// after every htmx swap, so fragments (the preview, the summary card) draw themselves.
function renderHealthCharts(root) {
  if (typeof echarts === "undefined" || !root || !root.querySelectorAll) return;
  const elements = [...root.querySelectorAll("[data-health-chart]")];
  if (root.matches && root.matches("[data-health-chart]")) elements.push(root);
  elements.forEach((element) => {
    const data = JSON.parse(element.dataset.healthChart);
    const chart = echarts.getInstanceByDom(element) || echarts.init(element);
    chart.setOption({
      grid: { left: 36, right: 12, top: 12, bottom: 28 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: data.labels, axisLabel: { fontSize: 10 } },
      yAxis: { type: "value", minInterval: 1, ...(data.kind === "line" ? { min: 0, max: 100 } : {}) },
      series: [
        {
          name: data.name,
          type: data.kind,
          data: data.values,
          connectNulls: true,
          showSymbol: data.values.length < 30,
          itemStyle: { color: "#198754" },
        },
      ],
    });
    element.setAttribute("data-rendered", "true");
  });
}

document.addEventListener("DOMContentLoaded", () => renderHealthCharts(document));
document.addEventListener("htmx:afterSettle", (event) => renderHealthCharts(event.detail.elt));
window.addEventListener("resize", () => {
  document.querySelectorAll("[data-health-chart]").forEach((element) => {
    const chart = typeof echarts !== "undefined" && echarts.getInstanceByDom(element);
    if (chart) chart.resize();
  });
});
