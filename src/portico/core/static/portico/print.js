// The print view's Print button: shown only where JavaScript runs, replacing the hint that says how
// to print without it.
document.querySelectorAll("[data-print-button]").forEach(function (button) {
  var hint = document.getElementById(button.getAttribute("data-print-hint") || "");
  if (hint) { hint.hidden = true; }
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
