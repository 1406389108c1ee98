// Renders every ".jp-Mermaid > pre.mermaid" (what nbconvert emits for a ```mermaid fence or a
// text/vnd.mermaid output) as inline SVG, one at a time: Mermaid's render() is not re-entrant.
// If a diagram does not parse, its source stays visible with the parser's message under it.
(function () {
  "use strict";
  var blocks = Array.prototype.slice.call(document.querySelectorAll(".jp-Mermaid > pre.mermaid"));
  if (!blocks.length || !window.mermaid) { return; }
  window.mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: "default",
                              maxTextSize: 100000 });
  // nbconvert writes the diagram source into <pre> without HTML-escaping it, so a label such as
  // "a<br/>b" arrives as an element: read the markup back rather than only the text.
  function source(pre) {
    return pre.innerHTML.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"')
      .replace(/&nbsp;/g, " ").replace(/&amp;/g, "&").trim();
  }
  var chain = Promise.resolve();
  blocks.forEach(function (pre, i) {
    chain = chain.then(function () {
      var id = "runbook-mermaid-" + i;
      return window.mermaid.render(id, source(pre)).then(function (result) {
        var figure = document.createElement("figure");
        figure.className = "runbook-mermaid";
        figure.innerHTML = result.svg;
        pre.parentNode.replaceChild(figure, pre);
      }, function (err) {
        var leftover = document.getElementById("d" + id);
        if (leftover) { leftover.remove(); }
        var note = document.createElement("pre");
        note.className = "runbook-mermaid-error";
        note.textContent = "This Mermaid diagram could not be rendered: " + err;
        pre.parentNode.appendChild(note);
      });
    });
  });
})();
