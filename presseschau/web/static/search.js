// Client-side search for the static site: loads /suche/index.json once and matches every word
// of the query against title, teaser and keywords (umlauts folded, so "Kiew" finds "kiew").
(function () {
  "use strict";
  var form = document.querySelector(".search-form");
  var out = document.getElementById("ergebnisse");
  if (!form || !out) return;
  var input = form.querySelector("input[name=q]");
  var indexUrl = form.getAttribute("action") + "index.json";
  var fold = function (s) {
    return s.toLowerCase().replace(/ä/g, "ae").replace(/ö/g, "oe").replace(/ü/g, "ue").replace(/ß/g, "ss")
      .normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  };
  var params = new URLSearchParams(window.location.search);
  var query = (params.get("q") || "").trim();
  input.value = query;
  if (!query) return;
  var terms = fold(query).split(/[^a-z0-9]+/).filter(function (t) { return t.length > 1; });
  fetch(indexUrl).then(function (r) { return r.json(); }).then(function (index) {
    var hits = index.articles.filter(function (a) {
      var hay = a._hay || (a._hay = fold(a.title + " " + a.teaser + " " + a.keywords));
      return terms.every(function (t) { return hay.indexOf(t) !== -1; });
    });
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
