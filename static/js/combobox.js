// Issue 14: a searchable pupil picker. A <select data-combobox> becomes a text box that filters
// its options as you type (the WAI-ARIA 1.2 combobox pattern with a list box popup). The select
// stays in the form, hidden, and carries the value: without JavaScript the page keeps the plain
// drop-down, and the server reads the same field either way. Choosing an option fires the
// select's "change" event, so htmx (the siblings list) reacts as before.
(function () {
  "use strict";
  var MAX_SHOWN = 50;

  function normalise(text) {
    return text.toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  }

  function enhance(select) {
    if (select.dataset.comboboxOn === "on") {
      return;
    }
    select.dataset.comboboxOn = "on";
    var options = Array.prototype.filter
      .call(select.options, function (option) {
        return option.value !== "";
      })
      .map(function (option) {
        return { value: option.value, text: option.textContent.trim(), key: normalise(option.textContent) };
      });
    var label = document.querySelector('label[for="' + select.id + '"]');
    var wrapper = document.createElement("div");
    wrapper.className = "combobox position-relative";
    var input = document.createElement("input");
    var listbox = document.createElement("ul");
    var status = document.createElement("div");
    input.type = "text";
    input.id = select.id + "-search";
    input.className = select.className.replace("form-select", "form-control");
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", select.id + "-listbox");
    input.setAttribute("autocomplete", "off");
    input.setAttribute("placeholder", "Type part of a name");
    if (select.getAttribute("aria-describedby")) {
      input.setAttribute("aria-describedby", select.getAttribute("aria-describedby"));
    }
    if (select.getAttribute("aria-invalid")) {
      input.setAttribute("aria-invalid", select.getAttribute("aria-invalid"));
    }
    listbox.id = select.id + "-listbox";
    listbox.className = "combobox-list list-group position-absolute w-100 shadow-sm";
    listbox.setAttribute("role", "listbox");
    listbox.hidden = true;
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    if (label) {
      label.id = label.id || select.id + "-label";
      label.setAttribute("for", input.id);
      listbox.setAttribute("aria-labelledby", label.id);
    }
    var chosen = select.options[select.selectedIndex];
    if (chosen && chosen.value !== "") {
      input.value = chosen.textContent.trim();
    }
    select.hidden = true;
    select.setAttribute("tabindex", "-1");
    select.insertAdjacentElement("afterend", wrapper);
    wrapper.appendChild(input);
    wrapper.appendChild(listbox);
    wrapper.appendChild(status);

    var shown = [];
    var active = -1;

    function close() {
      listbox.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      var items = listbox.children;
      for (var i = 0; i < items.length; i++) {
        var on = i === index;
        items[i].classList.toggle("active", on);
        items[i].setAttribute("aria-selected", on ? "true" : "false");
      }
      active = index;
      if (index >= 0 && items[index]) {
        input.setAttribute("aria-activedescendant", items[index].id);
        items[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function render() {
      var words = normalise(input.value).split(/\s+/).filter(Boolean);
      var matches = options.filter(function (option) {
        return words.every(function (word) {
          return option.key.indexOf(word) !== -1;
        });
      });
      shown = matches.slice(0, MAX_SHOWN);
      listbox.textContent = "";
      shown.forEach(function (option, index) {
        var item = document.createElement("li");
        item.id = select.id + "-option-" + index;
        item.className = "list-group-item list-group-item-action";
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        item.textContent = option.text;
        item.addEventListener("mousedown", function (event) {
          event.preventDefault(); // keep focus in the text box
          choose(option);
        });
        listbox.appendChild(item);
      });
      listbox.hidden = shown.length === 0;
      input.setAttribute("aria-expanded", shown.length ? "true" : "false");
      status.textContent = matches.length
        ? matches.length + (matches.length === 1 ? " pupil matches" : " pupils match")
        : "No pupil matches";
      highlight(shown.length === 1 ? 0 : -1);
    }

    function choose(option) {
      input.value = option.text;
      close();
      if (select.value !== option.value) {
        select.value = option.value;
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
    }

    input.addEventListener("input", function () {
      if (select.value !== "") {
        select.value = "";
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
      render();
    });
    input.addEventListener("focus", function () {
      if (!input.value) {
        render();
      }
    });
    input.addEventListener("blur", function () {
      close();
      // A unique match typed in full is taken; anything else is left for the server to refuse
      // ("Select a valid choice" names the field), never silently guessed.
      if (select.value === "" && shown.length === 1) {
        choose(shown[0]);
      }
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (listbox.hidden) {
          render();
        }
        highlight(Math.min(active + 1, shown.length - 1));
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        highlight(Math.max(active - 1, 0));
      } else if (event.key === "Enter") {
        if (!listbox.hidden && active >= 0) {
          event.preventDefault(); // choosing a pupil does not submit the form
          choose(shown[active]);
        }
      } else if (event.key === "Escape") {
        if (!listbox.hidden) {
          close();
        } else if (select.value !== "") {
          input.value = "";
          select.value = "";
          select.dispatchEvent(new Event("change", { bubbles: true }));
        }
      }
    });
  }

  function start() {
    document.querySelectorAll("select[data-combobox]").forEach(enhance);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
