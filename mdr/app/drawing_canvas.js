// The app's drawing canvas: mouse, pen or finger strokes in one colour on a plain background.
// The drawing is sent to the app the moment a stroke ends (no waiting), as the strokes' points
// and as a PNG of the canvas. The app empties it by sending a new `clears` count.
const STATE = new WeakMap();

function setUp(root) {
  const canvas = root.querySelector("canvas.mdr-canvas");
  const context = canvas.getContext("2d");
  const state = { canvas, context, strokes: [], current: null, clears: null, data: null, send: null };

  const point = (event) => {
    const box = canvas.getBoundingClientRect();
    return [Math.round((event.clientX - box.left) * canvas.width / box.width * 10) / 10,
            Math.round((event.clientY - box.top) * canvas.height / box.height * 10) / 10];
  };
  canvas.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    canvas.setPointerCapture(event.pointerId);
    state.current = { width: state.data.strokeWidth, colour: state.data.strokeColour, points: [point(event)] };
    paintStroke(state, state.current);
    event.preventDefault();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!state.current) return;
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    for (const e of events.length ? events : [event]) {
      const [x, y] = point(e);
      const last = state.current.points.at(-1);
      if (Math.abs(x - last[0]) + Math.abs(y - last[1]) >= 1) {
        state.current.points.push([x, y]);
        paintSegment(state, state.current, last, [x, y]);
      }
    }
  });
  const finish = () => {
    if (!state.current) return;
    state.strokes.push(state.current);
    state.current = null;
    send(state);
  };
  canvas.addEventListener("pointerup", finish);
  canvas.addEventListener("pointercancel", finish);

  root.querySelector("button.mdr-undo").addEventListener("click", () => {
    if (!state.strokes.length) return;
    state.strokes.pop();
    repaint(state);
    send(state);
  });
  root.querySelector("button.mdr-erase").addEventListener("click", () => {
    if (!state.strokes.length) return;
    state.strokes = [];
    repaint(state);
    send(state);
  });
  return state;
}

function paintStroke(state, stroke) {
  const [x, y] = stroke.points[0];
  const c = state.context;
  c.fillStyle = stroke.colour;
  c.beginPath();
  c.arc(x, y, stroke.width / 2, 0, 2 * Math.PI);
  c.fill();
  for (let i = 1; i < stroke.points.length; i++) paintSegment(state, stroke, stroke.points[i - 1], stroke.points[i]);
}

function paintSegment(state, stroke, from, to) {
  const c = state.context;
  c.strokeStyle = stroke.colour;
  c.lineWidth = stroke.width;
  c.lineCap = "round";
  c.lineJoin = "round";
  c.beginPath();
  c.moveTo(from[0], from[1]);
  c.lineTo(to[0], to[1]);
  c.stroke();
}

function repaint(state) {
  const c = state.context;
  c.fillStyle = state.data.background;
  c.fillRect(0, 0, state.canvas.width, state.canvas.height);
  for (const stroke of state.strokes) paintStroke(state, stroke);
}

function send(state) {
  const objects = state.strokes.map((s) => ({ type: "path", width: s.width, points: s.points }));
  state.send("drawing", {
    objects,
    clears: state.clears,
    png: objects.length ? state.canvas.toDataURL("image/png") : null,
  });
}

export default function ({ data, parentElement, setStateValue }) {
  const root = parentElement.querySelector(".mdr-canvas-root");
  let state = STATE.get(root);
  if (!state) {
    state = setUp(root);
    STATE.set(root, state);
  }
  state.send = setStateValue;
  const resized = state.canvas.width !== data.width || state.canvas.height !== data.height;
  const restyled = !state.data || state.data.background !== data.background;
  state.data = data;
  if (resized) {
    state.canvas.width = data.width;
    state.canvas.height = data.height;
  }
  if (state.clears !== data.clears) {
    const first = state.clears === null;
    state.clears = data.clears;
    state.strokes = [];
    state.current = null;
    repaint(state);
    if (!first) send(state);  // the app waits for the emptied canvas
  } else if (resized || restyled) {
    repaint(state);
  }
}
