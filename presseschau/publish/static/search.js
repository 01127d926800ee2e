// Client-side search for the static site: loads /suche/index.json once and matches every word
// of the query against each article's stems ("terms"), by the server's rules: a word matches its
// stem (here: a stem plus an inflection ending), and from four letters on the start of a longer
// word ("Windkraft" finds "Windkraftbranche"). Diacritics folded as the stems are ("Länder" ~ "land").
(function () {
  "use strict";
  var form = document.querySelector(".search-form");
  var out = document.getElementById("ergebnisse");
  if (!form || !out) return;
  var input = form.querySelector("input[name=q]");
  var indexUrl = form.getAttribute("action") + "index.json";
  var fold = function (s) {
    return s.toLowerCase().replace(/ß/g, "ss").normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  };
  var MIN_PREFIX = 4;
  // Endings the German stemmer strips from a word to reach its stem ("Diplomaten" -> "diplomat"),
  // "-ung" included ("Ferienwohnung" -> "ferienwohn"): a title word must be found without a longer
  // compound in the text (an excerpt has fewer of them).
  var ENDINGS = ["", "e", "em", "en", "ens", "er", "ern", "es", "n", "ns", "s", "st", "est", "ung", "ungen"];
  var matches = function (stems, term) {
    for (var i = 0; i < stems.length; i++) {
      var stem = stems[i];
      if (term.length >= MIN_PREFIX && stem.lastIndexOf(term, 0) === 0) return true;
      if (term.lastIndexOf(stem, 0) === 0 && ENDINGS.indexOf(term.slice(stem.length)) !== -1) return true;
    }
    return false;
  };
  var params = new URLSearchParams(window.location.search);
  var query = (params.get("q") || "").trim();
  input.value = query;
  if (!query) return;
  var terms = fold(query).split(/[^a-z0-9]+/).filter(function (t) { return t.length > 0; });
  fetch(indexUrl).then(function (r) { return r.json(); }).then(function (index) {
    var hits = terms.length ? index.articles.filter(function (a) {
      return terms.every(function (t) { return matches(a.terms, t); });
    }) : [];
    out.textContent = "";
    var count = document.createElement("p");
    count.className = "result-count";
    count.setAttribute("role", "status");
    count.textContent = hits.length + " Treffer für „" + query + "“";
    out.appendChild(count);
    var list = document.createElement("ol");
    list.className = "article-list";
    hits.slice(0, 100).forEach(function (a) {
      var li = document.createElement("li");
      li.className = "teaser";
      var h = document.createElement("h2");
      h.className = "teaser-title";
      var link = document.createElement("a");
      link.href = a.url;
      link.textContent = a.title;
      h.appendChild(link);
      var meta = document.createElement("p");
      meta.className = "meta";
      meta.textContent = a.date + (a.outlet ? " · " + a.outlet : "");
      var text = document.createElement("p");
      text.className = "teaser-text";
      text.textContent = a.teaser;
      li.appendChild(h); li.appendChild(meta); li.appendChild(text);
      list.appendChild(li);
    });
    out.appendChild(list);
  }).catch(function () {
    out.textContent = "Der Suchindex konnte nicht geladen werden.";
  });
})();
