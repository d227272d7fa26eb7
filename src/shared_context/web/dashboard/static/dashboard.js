// Shared Context dashboard: the few behaviours htmx does not do by itself.
// - Live messages (SSE "message" events) are placed in thread order: a reply goes after its
//   parent's last descendant, one level deeper; a message already shown is replaced, never
//   duplicated (a reconnecting stream may resend); a withdrawn message is removed.
// - The live-status line tells screen readers and sighted users whether updates flow.
// - The compose form is cleared after a successful post.
(function () {
  "use strict";
  var MAX_DEPTH = 6;

  function depthOf(el) {
    return parseInt(el.getAttribute("data-depth") || "0", 10);
  }

  function setDepth(li, depth) {
    li.setAttribute("data-depth", String(depth));
    li.className = li.className.replace(/\bdepth-\d+\b/, "depth-" + depth);
  }

  function place(li, list) {
    var existing = document.getElementById(li.id);
    if (existing) {
      setDepth(li, depthOf(existing));
      existing.replaceWith(li);
      return;
    }
    var parentId = li.getAttribute("data-parent");
    var parent = parentId ? document.getElementById("msg-" + parentId) : null;
    if (parent && parent.parentNode === list) {
      var parentDepth = depthOf(parent);
      setDepth(li, Math.min(parentDepth + 1, MAX_DEPTH));
      var after = parent;
      var next = parent.nextElementSibling;
      while (next && depthOf(next) > parentDepth) {
        after = next;
        next = next.nextElementSibling;
      }
      after.after(li);
    } else {
      list.appendChild(li);
    }
  }

  document.addEventListener("htmx:sseBeforeMessage", function (evt) {
    var list = evt.target;
    if (!list || !list.hasAttribute || !list.hasAttribute("data-live-list")) {
      return;
    }
    evt.preventDefault();
    var template = document.createElement("template");
    template.innerHTML = evt.detail.data;
    Array.prototype.slice.call(template.content.children).forEach(function (node) {
      var gone = node.getAttribute("data-remove-id");
      if (gone) {
        var old = document.getElementById("msg-" + gone);
        if (old) { old.remove(); }
        return;
      }
      place(node, list);
    });
    var empty = document.getElementById("no-messages");
    if (empty && list.children.length) { empty.remove(); }
  });

  function status(text) {
    var el = document.getElementById("live-status");
    if (el) { el.textContent = text; }
  }
  document.addEventListener("htmx:sseOpen", function () { status("Live: new messages appear here."); });
  document.addEventListener("htmx:sseError", function () { status("Live updates interrupted; reconnecting…"); });
  document.addEventListener("htmx:sseClose", function () { status("Live updates stopped."); });

  document.addEventListener("htmx:afterRequest", function (evt) {
    var form = evt.target;
    if (form && form.matches && form.matches("form[data-reset]") && evt.detail.successful) {
      form.reset();
      var box = form.querySelector("textarea");
      if (box) { box.focus(); }
    }
  });
})();
