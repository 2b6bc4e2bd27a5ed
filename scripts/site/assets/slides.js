// Presenting mode: one slide at a time, keyboard navigation (→ ← space PageUp/PageDown Home End, c code on/off,
// f full screen, Esc back to the notebook page).
(function () {
  var slides = [].slice.call(document.querySelectorAll('.slide'));
  var counter = document.getElementById('slide-counter');
  var bar = document.getElementById('slide-progress');
  var current = 0;
  function show(i) {
    current = Math.max(0, Math.min(slides.length - 1, i));
    slides.forEach(function (s, j) { s.classList.toggle('active', j === current); });
    counter.textContent = (current + 1) + ' / ' + slides.length;
    bar.style.width = (100 * (current + 1) / slides.length) + '%';
    if (location.hash !== '#' + (current + 1)) history.replaceState(null, '', '#' + (current + 1));
    slides[current].scrollTop = 0;
    if (window.kitDrawPlots) window.kitDrawPlots(slides[current]);
    fit(slides[current]);
  }
  // A slide taller than the screen is shrunk (down to 60 %) before it has to scroll.
  function fit(slide) {
    var size = 1;
    slide.style.fontSize = '';
    while (slide.scrollHeight > slide.clientHeight + 2 && size > 0.6) {
      size -= 0.05;
      slide.style.fontSize = size + 'em';
    }
  }
  document.addEventListener('keydown', function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    var k = e.key;
    if (k === 'ArrowRight' || k === 'PageDown' || k === ' ' || k === 'n') { show(current + 1); e.preventDefault(); }
    else if (k === 'ArrowLeft' || k === 'PageUp' || k === 'Backspace' || k === 'p') { show(current - 1); e.preventDefault(); }
    else if (k === 'Home') show(0);
    else if (k === 'End') show(slides.length - 1);
    else if (k === 'c') { document.body.classList.toggle('hide-code'); if (window.kitDrawPlots) window.kitDrawPlots(slides[current]); }
    else if (k === 'f') { if (!document.fullscreenElement) document.documentElement.requestFullscreen().catch(function () {}); else document.exitFullscreen(); }
    else if (k === 'Escape' && !document.fullscreenElement) location.href = document.body.getAttribute('data-notebook');
  });
  document.getElementById('prev').addEventListener('click', function () { show(current - 1); });
  document.getElementById('next').addEventListener('click', function () { show(current + 1); });
  window.kitSlide = function () { return current; };
  document.addEventListener('DOMContentLoaded', function () { show((parseInt(location.hash.slice(1), 10) || 1) - 1); });
})();
