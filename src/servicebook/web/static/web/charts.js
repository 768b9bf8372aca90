// Draws every <canvas data-chart='{"labels": [...], "values": [...]}'> as a bar (or
// data-chart-type) chart; see servicebook.core.charts for the data and what "target" and
// "percent" do.
document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
  var data = JSON.parse(canvas.dataset.chart);
  var values = data.values.map(Number);
  var datasets = [
    { label: data.label || "", data: values, backgroundColor: "#6f42c1", borderColor: "#6f42c1" },
  ];
  var hasTarget = data.target !== undefined && data.target !== null;
  var target = hasTarget ? Number(data.target) : null;
  if (hasTarget) {
    datasets.push({
      type: "line",
      label: "Target",
      data: data.labels.map(function () { return target; }),
      borderColor: "#d63384",
      backgroundColor: "#d63384",
      borderDash: [6, 4],
      borderWidth: 2,
      pointRadius: 0,
      fill: false,
    });
  }
  var type = canvas.dataset.chartType || "bar";
  var y = { beginAtZero: true };
  if (data.percent) {
    // a line starts a little below its lowest point; a bar always at zero (its length is its value)
    var lowest = Math.min.apply(null, values.concat(hasTarget ? [target] : []));
    var floor = type === "bar" ? 0 : Math.max(0, Math.floor((lowest - 5) / 5) * 5);
    y = { min: floor, max: 100, ticks: { callback: function (v) { return v + "%"; } } };
  } else if (data.axis) {
    y = { min: data.axis[0], max: data.axis[1] };
  }
  new Chart(canvas, {
    type: type,
    data: { labels: data.labels, datasets: datasets },
    options: {
      maintainAspectRatio: false,
      scales: { y: y },
      plugins: { legend: { display: hasTarget } },
    },
  });
});
