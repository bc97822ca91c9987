// The drawing page: strokes on a canvas, posted as a base64 PNG to /recognize.
(function () {
  "use strict";
  const canvas = document.getElementById("canvas");
  const context = canvas.getContext("2d");
  const result = document.getElementById("result");
  const alternatives = document.getElementById("alternatives");
  const advice = document.getElementById("advice");
  const details = document.getElementById("details");
  const recognizeButton = document.getElementById("recognize");
  let drawing = false;
  let strokes = 0;

  function reset() {
    context.fillStyle = "#ffffff";
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.strokeStyle = "#000000";
    context.lineWidth = 14;
    context.lineCap = "round";
    context.lineJoin = "round";
    strokes = 0;
  }

  function point(event) {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * canvas.width / box.width,
            (event.clientY - box.top) * canvas.height / box.height];
  }

  canvas.addEventListener("pointerdown", function (event) {
    drawing = true;
    strokes += 1;
    canvas.setPointerCapture(event.pointerId);
    const [x, y] = point(event);
    context.beginPath();
    context.moveTo(x, y);
    context.lineTo(x + 0.01, y);
    context.stroke();
  });
  canvas.addEventListener("pointermove", function (event) {
    if (!drawing) return;
    const [x, y] = point(event);
    context.lineTo(x, y);
    context.stroke();
  });
  ["pointerup", "pointercancel", "pointerleave"].forEach(function (name) {
    canvas.addEventListener(name, function () { drawing = false; });
  });

  function show(text, isError) {
    result.textContent = text;
    result.classList.toggle("error", Boolean(isError));
  }

  function clearReading() {
    details.textContent = "";
    alternatives.textContent = "";
    advice.textContent = "";
  }

  async function recognize() {
    if (strokes === 0) {
      show("The canvas is empty: draw a number on it first, then press Recognize.", true);
      clearReading();
      return;
    }
    recognizeButton.disabled = true;
    try {
      const response = await fetch("/recognize", {
        method: "POST",
        headers: {"Content-Type": "application/json"},
        body: JSON.stringify({image: canvas.toDataURL("image/png")}),
      });
      const answer = await response.json();
      if (!response.ok) {
        show(answer.error || ("The server answered " + response.status + "."), true);
        clearReading();
        return;
      }
      show(answer.number, false);
      const sure = answer.digits.map(function (d) { return d.digit + " " + Math.round(d.confidence * 100) + "%"; });
      details.textContent = sure.join(" · ") + " — " + answer.ms.toFixed(1) + " ms, model " + answer.model;
      const others = answer.alternatives.map(function (a) { return a.number.replace(/\n/g, " / "); });
      const last = others[others.length - 1];
      alternatives.textContent = others.length
        ? "Did you mean " + (others.length > 1 ? others.slice(0, -1).join(", ") + " or " : "") + last + "?"
        : "";
      advice.textContent = (answer.advice || []).map(function (a) { return a.message; }).join(" ");
    } catch (error) {
      show("The service could not be reached (" + error + ").", true);
      clearReading();
    } finally {
      recognizeButton.disabled = false;
    }
  }

  recognizeButton.addEventListener("click", recognize);
  document.getElementById("clear").addEventListener("click", function () {
    reset();
    show("Draw a number.", false);
    clearReading();
  });
  reset();
})();
