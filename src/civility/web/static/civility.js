// Keyboard moderation: j/k move through the queue, a/r/h approve, reject or hold the current item.
(function () {
  "use strict";
  var current = -1;
  function items() { return Array.prototype.slice.call(document.querySelectorAll(".items .item")); }
  // Bring an item into view with its top showing (an item taller than the window would
  // otherwise be scrolled to its bottom edge).
  function reveal(el) {
    var rect = el.getBoundingClientRect();
    if (rect.height > window.innerHeight - 16) {
      if (rect.top < 0 || rect.top > window.innerHeight - 16) { window.scrollBy(0, rect.top - 8); }
    } else if (rect.top < 0 || rect.bottom > window.innerHeight) {
      el.scrollIntoView({block: "nearest"});
    }
  }
  function select(index, scroll) {
    var list = items();
    if (!list.length) { return; }
    index = Math.max(0, Math.min(index, list.length - 1));
    list.forEach(function (el) { el.classList.remove("current"); });
    current = index;
    list[index].classList.add("current");
    if (scroll !== false) { reveal(list[index]); }
  }
  function act(action) {
    var list = items();
    if (current < 0 || current >= list.length) { return; }
    var button = list[current].querySelector('button[data-action="' + action + '"]');
    if (button) { button.click(); }
  }
  document.addEventListener("keydown", function (event) {
    var tag = (event.target && event.target.tagName) || "";
    if (event.ctrlKey || event.metaKey || event.altKey || /^(INPUT|TEXTAREA|SELECT)$/.test(tag)) { return; }
    var key = event.key;
    if (key === "j") { select(current + 1); }
    else if (key === "k") { select(current - 1); }
    else if (key === "a") { act("approve"); }
    else if (key === "r") { act("reject"); }
    else if (key === "h") { act("hold"); }
    else { return; }
    event.preventDefault();
  });
  // After a decision the item is swapped in place: keep it marked, then move on to the next one.
  document.addEventListener("htmx:afterSwap", function (event) {
    var el = event.detail.elt;
    if (el && el.classList && el.classList.contains("item")) {
      var list = items();
      var index = list.indexOf(el);
      if (index === -1) { index = current; }
      current = index;
      select(index + 1 < list.length ? index + 1 : index);
    }
  });
  // Mark the first item on load without scrolling: the page opens at its top, header and filters
  // in view; j/k scroll from there.
  document.addEventListener("DOMContentLoaded", function () { if (items().length) { select(0, false); } });
})();
