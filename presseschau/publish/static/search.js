// Client-side search for the static site. With Pagefind's chunked index (pagefind/, made by
// `presseschau build`): German stemming, a snippet with the match marked, only the index chunks
// the query needs are downloaded. Without it (Pagefind was not installed at build time): the
// one-file index /suche/index.json, matched by the server's stem rules.
(function () {
  "use strict";
  var form = document.querySelector(".search-form");
  var out = document.getElementById("ergebnisse");
  if (!form || !out) return;
  var input = form.querySelector("input[name=q]");
  var params = new URLSearchParams(window.location.search);
  var query = (params.get("q") || "").trim();
  input.value = query;
  if (!query) return;
  var PAGE = 20;

  function element(name, className, text) {
    var node = document.createElement(name);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Pagefind's excerpt is HTML with <mark>: rebuilt from its text and marks only, so nothing
  // else in it can become markup.
  function snippet(excerptHtml) {
    var p = element("p", "snippet");
    var doc = new DOMParser().parseFromString("<body>" + excerptHtml + "</body>", "text/html");
    doc.body.childNodes.forEach(function (node) {
      if (node.nodeName === "MARK") p.appendChild(element("mark", "", node.textContent));
      else p.appendChild(document.createTextNode(node.textContent));
    });
    return p;
  }

  function show(total, items) {
    out.textContent = "";
    out.appendChild(element("p", "result-count", (total === 1 ? "1 Treffer" : total.toLocaleString("de-DE") + " Treffer") + " für „" + query + "“"));
    out.lastChild.setAttribute("role", "status");
    var list = element("ol", "article-list search-results");
    items.forEach(function (item) {
      var li = element("li", "teaser");
      var h = element("h2", "teaser-title");
      var link = element("a", "", item.title);
      link.href = item.url;
      h.appendChild(link);
      li.appendChild(h);
      li.appendChild(element("p", "meta", item.meta));
      li.appendChild(item.snippet);
      list.appendChild(li);
    });
    out.appendChild(list);
  }

  function withPagefind(pagefind) {
    return pagefind.options({ excerptLength: 30 }).then(function () {
      return pagefind.search(query);
    }).then(function (search) {
      return Promise.all(search.results.slice(0, PAGE).map(function (r) { return r.data(); })).then(function (data) {
        show(search.results.length, data.map(function (d) {
          var outlet = (d.filters && d.filters.Quelle && d.filters.Quelle[0]) || "";
          return {
            url: d.url,
            title: (d.meta && d.meta.title) || d.url,
            meta: [(d.meta && d.meta.datum) || "", outlet].filter(Boolean).join(" · "),
            snippet: snippet(d.excerpt || ""),
          };
        }));
      });
    });
  }

  // The fallback: every article's stems in one file, matched by the server's rules.
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
  function withJsonIndex() {
    var terms = fold(query).split(/[^a-z0-9]+/).filter(function (t) { return t.length > 0; });
    return fetch(form.getAttribute("action") + "index.json").then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.json();
    }).then(function (index) {
      var hits = terms.length ? index.articles.filter(function (a) {
        return terms.every(function (t) { return matches(a.terms, t); });
      }) : [];
      show(hits.length, hits.slice(0, 100).map(function (a) {
        return { url: a.url, title: a.title, meta: a.date + (a.outlet ? " · " + a.outlet : ""), snippet: element("p", "snippet", a.teaser) };
      }));
    });
  }

  var bundle = out.getAttribute("data-pagefind");
  import(bundle + "pagefind.js").then(withPagefind, withJsonIndex).catch(function () {
    out.textContent = "Der Suchindex konnte nicht geladen werden.";
  });
})();
