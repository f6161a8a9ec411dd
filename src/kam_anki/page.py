"""The preview page's own HTML, CSS and script (the cards inside it bring the note type's CSS)."""

from __future__ import annotations

# The page's own styles use the pv- prefix; the one rule on .card stands in for the margin
# Anki's reviewer puts around a card.
PAGE_CSS = """
html { background: #eceae4; }
body.pv { margin: 0; font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, Arial,
  sans-serif; color: #24262a; }
.pv-bar { position: sticky; top: 0; z-index: 1; display: flex; flex-wrap: wrap; gap: 8px 14px;
  align-items: center; padding: 10px 16px; background: #f7f6f2; border-bottom: 1px solid #d6d3cb; }
.pv-bar h1 { font-size: 17px; margin: 0 8px 0 0; }
.pv-bar h1 small { font-weight: 400; color: #6a6f76; }
.pv-bar input[type=search], .pv-bar select { font: inherit; padding: 4px 8px; border-radius: 6px;
  border: 1px solid #bcb8ae; background: #fff; color: inherit; max-width: 100%; }
.pv-bar input[type=search] { width: 16em; }
.pv-bar label { white-space: nowrap; }
#pv-shown { color: #6a6f76; }
.pv-loose, #pv-cards { max-width: 1180px; margin: 0 auto; padding: 0 16px; }
.pv-loose { margin-top: 16px; color: #8a4b00; }
.pv-item { margin: 20px 0 28px; }
.pv-meta { display: flex; flex-wrap: wrap; gap: 4px 12px; align-items: baseline;
  margin-bottom: 6px; color: #6a6f76; font-size: 13px; }
.pv-meta code { font-size: 12px; overflow-wrap: anywhere; }
.pv-id { color: inherit; }
.pv-badge { padding: 1px 8px; border-radius: 9px; background: #dcd9d0; color: #3a3c40; }
.pv-badge-warn { background: #ffd98a; color: #4d3200; }
.pv-warnings { margin: 4px 0 8px; padding-left: 1.2em; color: #8a4b00; font-size: 13px; }
.pv-warned .pv-frame { box-shadow: 0 0 0 2px #e8a33a; }
.pv-removed .pv-frame { opacity: 0.6; }
.pv-sides { display: flex; flex-wrap: wrap; gap: 14px; align-items: flex-start; }
.pv-side { flex: 1 1 340px; min-width: 0; margin: 0; }
.pv-side figcaption { font-size: 12px; color: #6a6f76; margin: 0 0 3px 2px; }
.pv-frame { border-radius: 10px; overflow: hidden; box-shadow: 0 0 0 1px #d2cec4; }
.pv-frame > .card { padding: 14px 16px; min-height: 60px; }
body.pv-phone .pv-side { flex: 0 0 375px; max-width: 100%; }
body.pv-dark, html.pv-dark { background: #101012; color: #d9d7d2; }
.pv-dark .pv-bar { background: #19191b; border-color: #333; }
.pv-dark .pv-bar input[type=search], .pv-dark .pv-bar select { background: #222;
  border-color: #444; }
.pv-dark .pv-badge { background: #333336; color: #d9d7d2; }
.pv-dark .pv-badge-warn { background: #5c4512; color: #ffd98a; }
.pv-dark .pv-frame { box-shadow: 0 0 0 1px #333336; }
.pv-dark .pv-warned .pv-frame { box-shadow: 0 0 0 2px #c98a2a; }
.pv-hidden { display: none; }
/* No MathJax here (the page stays offline and small): a formula shows as its LaTeX, marked,
   and Anki typesets it on the card. */
.pv .math { font-family: ui-monospace, Menlo, Consolas, "Liberation Mono", monospace;
  font-size: 0.85em; padding: 0 0.2em; border: 1px dashed currentColor; border-radius: 4px; }
.pv .math::before { content: "TeX "; font: 600 0.7em system-ui, sans-serif; opacity: 0.7; }
#pv-none { max-width: 1180px; margin: 24px auto; padding: 0 16px; color: #6a6f76; }
"""

# State lives in the URL fragment (#dark&phone&q=…&chapter=…) so a reload keeps it.
SCRIPT = """
(function () {
  var $ = function (id) { return document.getElementById(id); };
  // Each side is parsed on its own, as Anki's reviewer sets a card's HTML: whatever a card
  // leaves open (<textarea>, <!--, <title>, ...) ends with that card, not with the page.
  document.querySelectorAll('.pv-frame > .card[data-html]').forEach(function (card) {
    card.innerHTML = card.getAttribute('data-html');
    card.removeAttribute('data-html');
  });
  var items = Array.prototype.slice.call(document.querySelectorAll('.pv-item'));
  var cards = Array.prototype.slice.call(document.querySelectorAll('.pv-frame > .card'));
  function readHash() {
    var state = {};
    location.hash.replace(/^#/, '').split('&').forEach(function (part) {
      if (!part) return;
      var i = part.indexOf('=');
      if (i < 0) state[decodeURIComponent(part)] = true;
      else state[decodeURIComponent(part.slice(0, i))] = decodeURIComponent(part.slice(i + 1));
    });
    return state;
  }
  function writeHash() {
    var parts = [$('pv-dark').checked ? 'dark' : 'light'];
    if ($('pv-phone').checked) parts.push('phone');
    if ($('pv-warn').checked) parts.push('warnings');
    if ($('pv-q').value) parts.push('q=' + encodeURIComponent($('pv-q').value));
    if ($('pv-chapter').value) parts.push('chapter=' + encodeURIComponent($('pv-chapter').value));
    history.replaceState(null, '', '#' + parts.join('&'));
  }
  function apply() {
    var dark = $('pv-dark').checked;
    document.documentElement.classList.toggle('pv-dark', dark);
    document.body.classList.toggle('pv-dark', dark);
    document.body.classList.toggle('pv-phone', $('pv-phone').checked);
    cards.forEach(function (card) {
      card.classList.toggle('nightMode', dark);
      card.classList.toggle('night_mode', dark);
    });
    var words = $('pv-q').value.toLowerCase().split(/\\s+/).filter(Boolean);
    var chapter = $('pv-chapter').value;
    var onlyWarned = $('pv-warn').checked;
    var shown = 0;
    items.forEach(function (item) {
      var text = item.getAttribute('data-text');
      var ok = (!chapter || item.getAttribute('data-chapter') === chapter) &&
        (!onlyWarned || item.classList.contains('pv-warned')) &&
        words.every(function (w) { return text.indexOf(w) >= 0; });
      item.classList.toggle('pv-hidden', !ok);
      if (ok) shown += 1;
    });
    $('pv-shown').textContent = shown + ' of ' + items.length + ' shown';
    $('pv-none').classList.toggle('pv-hidden', shown > 0);
  }
  var state = readHash();
  var prefersDark = window.matchMedia && matchMedia('(prefers-color-scheme: dark)').matches;
  $('pv-dark').checked = state.dark ? true : state.light ? false : prefersDark;
  $('pv-phone').checked = !!state.phone;
  $('pv-warn').checked = !!state.warnings;
  if (typeof state.q === 'string') $('pv-q').value = state.q;
  if (typeof state.chapter === 'string') $('pv-chapter').value = state.chapter;
  ['pv-dark', 'pv-phone', 'pv-warn', 'pv-chapter'].forEach(function (id) {
    $(id).addEventListener('change', function () { apply(); writeHash(); });
  });
  $('pv-q').addEventListener('input', function () { apply(); writeHash(); });
  apply();
})();
"""

PAGE = """<!DOCTYPE html>
<html lang="de">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}: preview</title>
<style>
{card_css}
</style>
<style>{page_css}</style>
</head>
<body class="pv">
<header class="pv-bar">
<h1>{title} <small>{count} cards</small></h1>
<input type="search" id="pv-q" placeholder="Filter by text or id" aria-label="Filter by text or id">
<select id="pv-chapter" aria-label="Chapter">
<option value="">All chapters</option>{options}</select>
<label><input type="checkbox" id="pv-dark"> Night mode</label>
<label><input type="checkbox" id="pv-phone"> Phone width</label>
<label><input type="checkbox" id="pv-warn"> With warnings ({warned})</label>
<span id="pv-shown"></span>
</header>
{loose}
<noscript><p id="pv-noscript">The cards are shown with JavaScript: please allow it for
this page.</p></noscript>
<main id="pv-cards">
{cards}
</main>
<p id="pv-none" class="pv-hidden">No card matches the filter.</p>
<script>{script}</script>
</body>
</html>
"""
