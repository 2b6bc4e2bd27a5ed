// Draws the plotly figures of a page (offline: assets/plotly.js). Figures in hidden slides are drawn when shown.
(function () {
  function draw(root) {
    if (!window.Plotly) return;
    (root || document).querySelectorAll('.kit-plot').forEach(function (el) {
      if (el.getAttribute('data-drawn')) { window.Plotly.Plots.resize(el.querySelector('.kit-plot-area')); return; }
      if (el.offsetParent === null) return; // hidden (another slide)
      var fig = JSON.parse(el.querySelector('script.kit-fig').textContent);
      var area = document.createElement('div');
      area.className = 'kit-plot-area';
      el.appendChild(area);
      el.setAttribute('data-drawn', '1');
      var config = Object.assign({ responsive: true, displaylogo: false }, fig.config || {});
      window.Plotly.newPlot(area, fig.data || [], fig.layout || {}, config);
    });
  }
  window.kitDrawPlots = draw;
  document.addEventListener('DOMContentLoaded', function () { draw(document); });
})();
