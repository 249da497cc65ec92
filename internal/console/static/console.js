// Copy buttons: each button.copy copies the text (or the input's value) of
// the element its data-copy selector names. The pages work without it.
document.querySelectorAll("button.copy").forEach(function (b) {
  b.hidden = false;
  b.addEventListener("click", function () {
    var el = document.querySelector(b.dataset.copy);
    if (!el) return;
    var text = el.value !== undefined && el.tagName === "INPUT" ? el.value : el.innerText.trim();
    var done = function () { var t = b.textContent; b.textContent = "Copied"; setTimeout(function () { b.textContent = t; }, 1500); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () {});
    } else if (el.select) {
      el.select(); document.execCommand("copy"); done();
    }
  });
});
