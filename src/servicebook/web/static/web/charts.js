// Draws every <canvas data-chart='{"labels": [...], "values": [...]}'> as a bar chart.
document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
  var data = JSON.parse(canvas.dataset.chart);
  new Chart(canvas, {
    type: canvas.dataset.chartType || "bar",
    data: {
      labels: data.labels,
      datasets: [{ label: data.label || "", data: data.values.map(Number), backgroundColor: "#6f42c1" }],
    },
    options: { maintainAspectRatio: false, plugins: { legend: { display: false } } },
  });
});
