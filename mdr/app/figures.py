"""Pictures of a result, sent inside the page: the input with its digit boxes, the model inputs."""
from __future__ import annotations

import base64
import html
import io

import numpy as np
import streamlit as st
from PIL import Image, ImageDraw

from mdr.app.theme import ACCENT, GOOD


def model_input_image(final: np.ndarray, scale: int = 4) -> np.ndarray:
    """The 28x28 model input (0..1 floats) as an enlarged uint8 picture, nearest-neighbour."""
    pixels = np.clip(np.asarray(final, dtype=np.float32), 0.0, 1.0)
    pixels = (pixels * 255 + 0.5).astype(np.uint8)
    return np.kron(pixels, np.ones((scale, scale), dtype=np.uint8))


def annotated_input(recognition) -> np.ndarray:
    """The image as the recognizer saw it (ink bright), with a labelled box per digit."""
    from PIL import ImageFont

    picture = Image.fromarray(np.asarray(recognition.ink)).convert("RGB")
    scale = float(recognition.scale or 1.0)
    boxes = [tuple(v * scale for v in d.box) for d in recognition.digits]
    tallest = max((h for _, _, _, h in boxes), default=40)
    size = max(14, int(tallest * 0.28))
    pad = size + 8  # room above the top row for the labels
    framed = Image.new("RGB", (picture.width, picture.height + pad), "black")
    framed.paste(picture, (0, pad))
    draw = ImageDraw.Draw(framed)
    try:
        font = ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType
        font = ImageFont.load_default()
    line_width = max(2, round(max(picture.size) / 400))
    for digit, (x, y, w, h) in zip(recognition.digits, boxes):
        colour = ACCENT if digit.low_confidence else GOOD
        y += pad
        draw.rectangle([x, y, x + w, y + h], outline=colour, width=line_width)
        left, top, right, bottom = draw.textbbox((0, 0), str(digit.digit), font=font)
        tx, ty = x, max(0, y - (bottom - top) - 8)
        draw.rectangle([tx, ty, tx + right - left + 8, y], fill=colour)
        draw.text((tx + 4 - left, ty + 4 - top), str(digit.digit), fill="black", font=font)
    return np.asarray(framed)


INLINE_PICTURE = "mdr-picture"


def inline_picture(image: np.ndarray, caption: str = "", width: int | None = None,
                   stretch: bool = False) -> None:
    """A picture sent inside the page itself rather than as a media file.

    Streamlit forgets a session's media files when that session reruns and any other session's
    run ends; with many people using the app at once, a result's pictures could be gone before
    the browser fetched them (a broken picture). Pictures of a result stay with it this way.

    Without ``width`` a picture is at most as wide as its column; ``stretch`` makes a smaller one
    fill it, as ``st.image(width="stretch")`` does (Streamlit's markdown would only ever shrink it).
    """
    pixels = np.ascontiguousarray(image)
    buffer = io.BytesIO()
    picture = Image.fromarray(pixels)
    if pixels.shape[0] * pixels.shape[1] > 1_000_000:  # a big photo: JPEG keeps the page light
        picture.convert("RGB").save(buffer, format="JPEG", quality=85)
        mime = "image/jpeg"
    else:
        picture.save(buffer, format="PNG", optimize=False)
        mime = "image/png"
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    # the small 28x28 inputs are enlarged as blocks, like the model sees them
    size = f"width:{width}px;image-rendering:pixelated;" if width else "width:100%;"
    if stretch and not width:
        size += "object-fit:contain;"
    label = html.escape(caption)
    alt = label or "picture"
    st.markdown(
        f'<figure class="{INLINE_PICTURE}" style="margin:0;text-align:center;">'
        f'<img src="data:{mime};base64,{data}" alt="{alt}" style="{size}max-width:100%;border-radius:4px;">'
        + (f'<figcaption style="font-size:0.8rem;opacity:0.65;margin-top:0.3rem;">{label}</figcaption>'
           if caption else "") + "</figure>",
        unsafe_allow_html=True,
    )
