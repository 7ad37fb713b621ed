// After htmx swaps in a new check result, move the focus to it (the error summary, or else the
// decision heading) so keyboard and screen-reader users land on what changed. Without JavaScript
// the form posts normally and the whole page is rendered with the result.
document.addEventListener("htmx:afterSettle", function () {
  if (!document.getElementById("check-area")) {
    return;
  }
  var target = document.getElementById("form-errors") || document.getElementById("decision-title");
  if (target) {
    target.focus();
  }
});
