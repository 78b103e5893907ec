// R-REC-4: choosing "Immediate risk of harm" shows the call-the-duty-team instruction at once.
// Without JavaScript the server shows it after the first submit, before saving anything.
(function () {
  "use strict";
  var instruction = document.getElementById("immediate-instruction");
  if (!instruction) {
    return;
  }
  function update() {
    var chosen = document.querySelector('input[name="level"]:checked');
    if (chosen && chosen.value === "immediate") {
      instruction.classList.remove("d-none");
    }
  }
  document.querySelectorAll('input[name="level"]').forEach(function (input) {
    input.addEventListener("change", update);
  });
  update();
})();
