// Behaviour the page needs beyond Gradio's components. Everything works by event delegation on the
// document, because Gradio redraws the chat and the article pane whenever their values change.
(() => {
  const CITED = "cited";

  // Phones show one pane at a time; the "Article | Chat" bar switches (it is hidden on wide screens).
  function showPane(name) {
    document.body.dataset.pane = name;
    document.querySelectorAll("[data-pane-tab]").forEach((tab) => {
      tab.setAttribute("aria-selected", String(tab.dataset.paneTab === name));
    });
  }

  // A citation link's href is "#cite:<article>:<start>:<end>" (offsets into the article text); every
  // sentence of the article pane carries its own offsets, so the sentences overlapping the quote are found
  // without comparing any text.
  function showCitation(href) {
    const [, article, start, end] = href.split(":");
    const pane = document.querySelector(`#article article[data-article="${CSS.escape(article)}"]`);
    if (!pane) return;
    document.querySelectorAll(`#article .${CITED}`).forEach((s) => s.classList.remove(CITED));
    const cited = [...pane.querySelectorAll(".sentence")].filter(
      (s) => Number(s.dataset.start) < Number(end) && Number(s.dataset.end) > Number(start));
    cited.forEach((s) => s.classList.add(CITED));
    if (cited.length) {
      showPane("article");
      // Scroll the pane only, not the page: the chat and the input stay where they are.
      const box = document.querySelector("#article-pane");
      const offset = cited[0].getBoundingClientRect().top - box.getBoundingClientRect().top;
      box.scrollTop += offset - box.clientHeight / 3;
    }
  }

  // Hovering [n] shows its quote through the link's title; focusing it with the keyboard shows the same
  // quote in a tooltip the link points to with aria-describedby, so screen readers announce it too.
  const tip = document.createElement("div");
  tip.id = "citation-tip";
  tip.setAttribute("role", "tooltip");
  tip.hidden = true;

  function showTip(link) {
    if (!tip.isConnected) document.body.append(tip);
    tip.textContent = link.title;
    tip.hidden = false;
    link.setAttribute("aria-describedby", tip.id);
    const place = link.getBoundingClientRect();
    tip.style.left = `${Math.max(4, Math.min(place.left, window.innerWidth - tip.offsetWidth - 4))}px`;
    const below = place.bottom + 6;
    tip.style.top = `${below + tip.offsetHeight < window.innerHeight ? below : Math.max(4, place.top - tip.offsetHeight - 6)}px`;
  }

  document.addEventListener("focusin", (event) => {
    const link = event.target.closest?.('a[href^="#cite:"][title]');
    if (link?.matches(":focus-visible")) showTip(link);  // keyboard focus; a click scrolls to the quote instead
  });
  document.addEventListener("focusout", (event) => {
    if (event.target.closest?.('a[href^="#cite:"]')) tip.hidden = true;
  });

  // Enter and Space work the Sources / Note boxes as they work any button.
  document.addEventListener("keydown", (event) => {
    const title = event.target.closest?.("#chat .thought-group .title");
    if (title && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      title.click();
    }
  });

  document.addEventListener("click", (event) => {
    const link = event.target.closest('a[href^="#cite:"]');
    if (link) {
      event.preventDefault();
      event.stopPropagation();
      showCitation(link.getAttribute("href"));
      return;
    }
    const suggestion = event.target.closest('a[href^="#ask:"]');
    if (suggestion) {  // a question the greeting offers: asked as if typed
      event.preventDefault();
      event.stopPropagation();
      const box = document.querySelector("#question textarea");
      box.value = decodeURIComponent(suggestion.getAttribute("href").slice("#ask:".length));
      box.dispatchEvent(new Event("input", { bubbles: true }));
      setTimeout(() => document.querySelector("#question button")?.click(), 50);
      return;
    }
    const tab = event.target.closest("[data-pane-tab]");
    if (tab) showPane(tab.dataset.paneTab);
  }, true);

  // Gradio opens a dropdown's list when its box gets the focus, but leaves it open over the page when the focus
  // moves on with Tab or a click lands outside it. Anything else getting the focus or a press closes it, as
  // Escape in the box does (the list itself and its own box excepted, so picking an option still works).
  function closeOtherLists(target) {
    document.querySelectorAll('[role=combobox][aria-expanded="true"]').forEach((box) => {
      const list = document.getElementById(box.getAttribute("aria-controls"));
      if (target === box || list?.contains(target)) return;
      box.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    });
  }
  // Again a moment later: a box tabbed through quickly opens its list after the focus has already left it.
  const closeLists = (event) => {
    closeOtherLists(event.target);
    setTimeout(() => closeOtherLists(document.activeElement), 250);
  };
  document.addEventListener("focusin", closeLists);
  document.addEventListener("pointerdown", closeLists, true);

  // A file over the upload limit is refused here, before Gradio reads it: Gradio would show its own toast next to
  // the Library's earlier note (two messages at once) and poll the server for an upload that never started (a
  // 404). The name and size go to the server, which words the refusal as it words every other one. The limit is
  // the one the upload's label states ("up to 20 MB", ui/app.py).
  function refuseIfTooLarge(event, files) {
    const upload = document.querySelector("#upload");
    const limit = Number(upload?.textContent.match(/up to (\d+) MB/)?.[1]) * 1024 * 1024;
    const file = files?.[0];
    if (!file || !(file.size > limit)) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    if (event.target.type === "file") event.target.value = "";
    const box = document.querySelector("#upload-refused textarea");
    box.value = JSON.stringify({ name: file.name, bytes: file.size, at: Date.now() });  // "at": the same file twice is a change
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }
  document.addEventListener("change", (event) => {
    if (event.target.matches?.("#upload input[type=file]")) refuseIfTooLarge(event, event.target.files);
  }, true);
  document.addEventListener("drop", (event) => {
    if (event.target.closest?.("#upload")) refuseIfTooLarge(event, event.dataTransfer?.files);
  }, true);

  // Gradio's collapsible boxes (Sources, Note) toggle on a bare <div>: give it a role, a keyboard stop
  // and aria-expanded, kept in step with the class Gradio sets when it is open (aria-label is set only when it
  // differs: the observer watches that attribute, and a write of the same value would wake it again). The question box's
  // <label> also holds the "Ask" button, which would make its accessible name "Ask a question Ask".
  function labelControls() {
    const box = document.querySelector("#question textarea");
    if (box && box.getAttribute("aria-label") !== "Ask a question") box.setAttribute("aria-label", "Ask a question");
    // Gradio names each chat message by its raw Markdown ("bot's message: **In short** [\[1\]](#cite:…)");
    // without that name a screen reader reads the message's own text.
    document.querySelectorAll("#chat [data-testid][aria-label]").forEach((message) => message.removeAttribute("aria-label"));
    document.querySelectorAll("[data-pane-tab]").forEach((tab) => {
      tab.setAttribute("aria-selected", String(tab.dataset.paneTab === document.body.dataset.pane));
    });
    // The upload area's name ("Click to upload or drop files") is not its visible text ("Drop File Here - or -
    // Click to Upload"): voice control users say what they see (axe: label-content-name-mismatch).
    document.querySelectorAll("#upload button.upload-container[aria-label]").forEach((area) => area.removeAttribute("aria-label"));
    document.querySelectorAll("#chat .thought-group .title").forEach((title) => {
      title.setAttribute("role", "button");
      title.tabIndex = 0;
      title.setAttribute("aria-expanded", String(title.classList.contains("expanded")));
      // Its arrow is a nameless button inside that button: the title is the one control (axe: button-name,
      // nested-interactive), so the arrow is taken out of focus and of the accessibility tree.
      title.querySelectorAll("button:not([inert])").forEach((arrow) => arrow.setAttribute("inert", ""));
    });
  }
  const watch = () => {
    showPane("chat");
    labelControls();
    new MutationObserver(labelControls).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ["class", "aria-label"] });
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", watch);
  else watch();
})();
