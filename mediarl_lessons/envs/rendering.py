"""Drawing helpers for the environments' ``render_mode="rgb_array"`` pictures.

Everything is numpy: filled rectangles, bars, outlines and a built-in 5x7 bitmap font, so
a frame costs a fraction of a millisecond and ``gymnasium.wrappers.RecordVideo`` can film
an episode without matplotlib, pygame or any other dependency. Each environment draws its
state onto a :class:`Canvas` and returns ``canvas.pixels``, an ``(H, W, 3)`` ``uint8`` array.

The colours mean the same in every environment: blue is what the agent did, green a good
outcome (a click, a viewer who stays, an auction won), red a bad one (a viewer who leaves,
an offline channel), gold the oracle's best choice, orange clickbait.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

Color = tuple[int, int, int]

BACKGROUND: Color = (248, 247, 243)
PANEL: Color = (255, 255, 255)
BORDER: Color = (205, 205, 200)
TEXT: Color = (35, 35, 40)
MUTED: Color = (125, 125, 130)
TRACK: Color = (228, 228, 224)
AGENT: Color = (40, 100, 230)  # what the agent chose
GOOD: Color = (40, 160, 70)  # click, stay, win
BAD: Color = (215, 50, 65)  # leave, offline, loss
BEST: Color = (235, 175, 0)  # the oracle's choice
CLICKBAIT: Color = (245, 130, 25)
QUALITY: Color = (40, 100, 230)
DARK: Color = (70, 70, 80)

#: Categorical colours for topics (matplotlib's tab20, less the blues, greens, reds, golds
#: and oranges that mean something above), repeated for a 15th topic and beyond.
TOPIC_COLORS: tuple[Color, ...] = (
    (148, 103, 189), (23, 190, 207), (227, 119, 194), (140, 86, 75), (188, 189, 34),
    (127, 127, 127), (197, 176, 213), (158, 218, 229), (247, 182, 210), (196, 156, 148),
    (219, 219, 141), (199, 199, 199), (174, 199, 232), (152, 223, 138),
)


def topic_color(topic: int) -> Color:
    return TOPIC_COLORS[topic % len(TOPIC_COLORS)]


def mix(color: Color, other: Color, amount: float) -> Color:
    """`color` moved `amount` (0..1) of the way towards `other`."""
    return tuple(int(round(c + (o - c) * amount)) for c, o in zip(color, other))  # type: ignore[return-value]


def ramp(fraction: float) -> Color:
    """Red (0) through yellow (0.5) to green (1): how good a level is."""
    fraction = min(max(float(fraction), 0.0), 1.0)
    if fraction < 0.5:
        return mix((220, 60, 55), (240, 200, 50), fraction * 2.0)
    return mix((240, 200, 50), (60, 170, 80), fraction * 2.0 - 1.0)


# ---- the font -----------------------------------------------------------------------------
# 5x7 capitals, digits and punctuation; lowercase letters are drawn as capitals.
_GLYPH_ROWS: dict[str, tuple[str, ...]] = {
    "0": (".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."),
    "1": ("..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "2": (".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"),
    "3": ("#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."),
    "4": ("...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."),
    "5": ("#####", "#....", "####.", "....#", "....#", "#...#", ".###."),
    "6": ("..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."),
    "7": ("#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."),
    "8": (".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."),
    "9": (".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."),
    "A": (".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"),
    "B": ("####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."),
    "C": (".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."),
    "D": ("###..", "#..#.", "#...#", "#...#", "#...#", "#..#.", "###.."),
    "E": ("#####", "#....", "#....", "####.", "#....", "#....", "#####"),
    "F": ("#####", "#....", "#....", "####.", "#....", "#....", "#...."),
    "G": (".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####"),
    "H": ("#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"),
    "I": (".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "J": ("..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."),
    "K": ("#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"),
    "L": ("#....", "#....", "#....", "#....", "#....", "#....", "#####"),
    "M": ("#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"),
    "N": ("#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#"),
    "O": (".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."),
    "P": ("####.", "#...#", "#...#", "####.", "#....", "#....", "#...."),
    "Q": (".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"),
    "R": ("####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"),
    "S": (".####", "#....", "#....", ".###.", "....#", "....#", "####."),
    "T": ("#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."),
    "U": ("#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."),
    "V": ("#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."),
    "W": ("#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."),
    "X": ("#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"),
    "Y": ("#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."),
    "Z": ("#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"),
    " ": (".....",) * 7,
    ".": (".....", ".....", ".....", ".....", ".....", ".##..", ".##.."),
    ",": (".....", ".....", ".....", ".....", ".##..", "..#..", ".#..."),
    ":": (".....", ".##..", ".##..", ".....", ".##..", ".##..", "....."),
    ";": (".....", ".##..", ".##..", ".....", ".##..", "..#..", ".#..."),
    "/": (".....", "....#", "...#.", "..#..", ".#...", "#....", "....."),
    "-": (".....", ".....", ".....", "#####", ".....", ".....", "....."),
    "+": (".....", "..#..", "..#..", "#####", "..#..", "..#..", "....."),
    "%": ("##...", "##..#", "...#.", "..#..", ".#...", "#..##", "...##"),
    "(": ("...#.", "..#..", ".#...", ".#...", ".#...", "..#..", "...#."),
    ")": (".#...", "..#..", "...#.", "...#.", "...#.", "..#..", ".#..."),
    "!": ("..#..", "..#..", "..#..", "..#..", "..#..", ".....", "..#.."),
    "?": (".###.", "#...#", "....#", "...#.", "..#..", ".....", "..#.."),
    ">": (".#...", "..#..", "...#.", "....#", "...#.", "..#..", ".#..."),
    "<": ("...#.", "..#..", ".#...", "#....", ".#...", "..#..", "...#."),
    "=": (".....", ".....", "#####", ".....", "#####", ".....", "....."),
    "*": (".....", "..#..", "#.#.#", ".###.", "#.#.#", "..#..", "....."),
    "'": ("..#..", "..#..", ".#...", ".....", ".....", ".....", "....."),
    "_": (".....", ".....", ".....", ".....", ".....", ".....", "#####"),
    "#": (".#.#.", ".#.#.", "#####", ".#.#.", "#####", ".#.#.", ".#.#."),
    "|": ("..#..", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."),
    "^": ("..#..", ".#.#.", "#...#", ".....", ".....", ".....", "....."),
}
GLYPH_WIDTH, GLYPH_HEIGHT = 5, 7
_GLYPHS = {char: np.array([[c == "#" for c in row] for row in rows]) for char, rows in _GLYPH_ROWS.items()}
_UNKNOWN = np.ones((GLYPH_HEIGHT, GLYPH_WIDTH), dtype=bool)


def text_width(text: str, scale: int = 1) -> int:
    """Width in pixels of `text` drawn at `scale` (one pixel of space between letters)."""
    return max(len(text) * (GLYPH_WIDTH + 1) - 1, 0) * scale


def text_height(scale: int = 1) -> int:
    return GLYPH_HEIGHT * scale


@lru_cache(maxsize=4096)
def _text_mask(text: str, scale: int) -> np.ndarray:
    """The boolean ink of a line of text (cached: most labels repeat from frame to frame)."""
    mask = np.zeros((GLYPH_HEIGHT, max(len(text) * (GLYPH_WIDTH + 1) - 1, 0)), dtype=bool)
    for i, char in enumerate(text.upper()):
        x = i * (GLYPH_WIDTH + 1)
        mask[:, x:x + GLYPH_WIDTH] = _GLYPHS.get(char, _UNKNOWN)
    if scale > 1:
        mask = mask.repeat(scale, axis=0).repeat(scale, axis=1)
    mask.flags.writeable = False
    return mask


def fit_text(text: str, width: int, scale: int = 1) -> str:
    """`text`, cut short (with no ellipsis) so that it fits in `width` pixels."""
    n = (width // scale + 1) // (GLYPH_WIDTH + 1)
    return text if len(text) <= n else text[:max(n, 0)]


# ---- the canvas ---------------------------------------------------------------------------
class Canvas:
    """An RGB picture to draw on; coordinates are pixels, (x, y) from the top left.

    Every method clips what it draws to the picture, so a layout that runs over an edge
    loses pixels instead of raising.
    """

    __slots__ = ("pixels", "height", "width")

    def __init__(self, pixels: np.ndarray) -> None:
        self.pixels = pixels
        self.height, self.width = pixels.shape[:2]

    @classmethod
    def blank(cls, height: int, width: int, color: Color = BACKGROUND) -> Canvas:
        pixels = np.empty((height, width, 3), dtype=np.uint8)
        pixels[...] = color
        return cls(pixels)

    def copy(self) -> Canvas:
        """A new canvas with a copy of the pixels (the original stays as it is)."""
        return Canvas(self.pixels.copy())

    def _clip(self, x: float, y: float, w: float, h: float) -> tuple[int, int, int, int]:
        """Pixel bounds [x0, x1) x [y0, y1), edges rounded to the nearest pixel, inside the picture."""
        # int(v + 0.5) rounds every coordinate that is not clipped away (those are >= 0), and
        # is several times faster than round(), which matters at a few hundred shapes a frame.
        x0, y0, x1, y1 = int(x + 0.5), int(y + 0.5), int(x + w + 0.5), int(y + h + 0.5)
        if x0 < 0:
            x0 = 0
        if y0 < 0:
            y0 = 0
        if x1 > self.width:
            x1 = self.width
        if y1 > self.height:
            y1 = self.height
        return x0, y0, x1, y1

    def rect(self, x: float, y: float, w: float, h: float, color: Color) -> None:
        """Fill the rectangle with top-left corner (x, y), width w and height h."""
        x0, y0, x1, y1 = self._clip(x, y, w, h)
        if x1 > x0 and y1 > y0:
            self.pixels[y0:y1, x0:x1] = color

    def outline(self, x: float, y: float, w: float, h: float, color: Color, thickness: int = 1) -> None:
        """The border of a rectangle, drawn inside it."""
        t = thickness
        self.rect(x, y, w, t, color)
        self.rect(x, y + h - t, w, t, color)
        self.rect(x, y, t, h, color)
        self.rect(x + w - t, y, t, h, color)

    def panel(self, x: float, y: float, w: float, h: float, color: Color = PANEL,
              border: Color = BORDER) -> None:
        """A filled rectangle with a one-pixel border: the frame of a part of the picture."""
        self.rect(x, y, w, h, color)
        self.outline(x, y, w, h, border)

    def hbar(self, x: float, y: float, w: float, h: float, fraction: float, color: Color,
             track: Color | None = TRACK) -> None:
        """A horizontal bar filled from the left to `fraction` (clipped to [0, 1]) of `w`."""
        if track is not None:
            self.rect(x, y, w, h, track)
        fraction = min(max(float(fraction), 0.0), 1.0)
        self.rect(x, y, w * fraction, h, color)

    def vbar(self, x: float, y: float, w: float, h: float, fraction: float, color: Color,
             track: Color | None = TRACK) -> None:
        """A vertical bar filled from the bottom up to `fraction` (clipped to [0, 1]) of `h`."""
        if track is not None:
            self.rect(x, y, w, h, track)
        fraction = min(max(float(fraction), 0.0), 1.0)
        filled = int(h * fraction + 0.5)
        self.rect(x, y + h - filled, w, filled, color)

    def hatch(self, x: float, y: float, w: float, h: float, color: Color, spacing: int = 4) -> None:
        """Diagonal stripes over the rectangle (for what is unavailable or unknown)."""
        x0, y0, x1, y1 = self._clip(x, y, w, h)
        if x1 <= x0 or y1 <= y0:
            return
        rows, cols = np.ogrid[y0:y1, x0:x1]
        self.pixels[y0:y1, x0:x1][(rows + cols) % spacing == 0] = color

    def text(self, x: float, y: float, text: str, color: Color = TEXT, scale: int = 1,
             align: str = "left") -> int:
        """Draw one line of text; `x` is its left edge, centre or right edge (`align`).

        Returns the width drawn, in pixels.
        """
        if not text:
            return 0
        mask = _text_mask(text, scale)
        h, w = mask.shape
        x = int(round(x)) - (w // 2 if align == "center" else w if align == "right" else 0)
        y = int(round(y))
        x0, y0, x1, y1 = self._clip(x, y, w, h)
        if x1 > x0 and y1 > y0:
            self.pixels[y0:y1, x0:x1][mask[y0 - y:y1 - y, x0 - x:x1 - x]] = color
        return w

    def legend(self, x: float, y: float, items: Sequence[tuple[Color, str]], gap: int = 14) -> float:
        """A row of colour swatches, each followed by its label; returns the x where the row ends."""
        for color, label in items:
            self.rect(x, y, 10, 8, color)
            x += 14 + self.text(x + 14, y, label, MUTED) + gap
        return x

    def star(self, cx: float, cy: float, size: int, color: Color) -> None:
        """A small plus-shaped star centred on (cx, cy): the oracle's pick."""
        r = max(size // 2, 1)
        t = max(size // 4, 1)
        self.rect(cx - r, cy - t / 2, 2 * r + 1, t, color)
        self.rect(cx - t / 2, cy - r, t, 2 * r + 1, color)
        self.rect(cx - r / 2, cy - r / 2, r + 1, r + 1, color)

    def person(self, x: float, y: float, size: int, color: Color) -> None:
        """A viewer: a square head over a wider body, `size` pixels tall, top-left at (x, y)."""
        head = max(size * 2 // 5, 2)
        body_w = max(size * 3 // 4, 3)
        self.rect(x + (body_w - head) / 2, y, head, head, color)
        self.rect(x, y + head + 1, body_w, size - head - 1, color)

    def triangle_down(self, cx: float, y: float, size: int, color: Color) -> None:
        """A downward arrowhead, its flat top `2 * size` wide at `y`: "this one"."""
        for i in range(size):
            self.rect(cx - size + i, y + i, 2 * (size - i), 1, color)


def frame_size(items: int, min_width: int, per_item: int, margin: int) -> int:
    """A frame width that gives each of `items` columns at least `per_item` pixels.

    At least `min_width`, rounded up to a multiple of 16 (video encoders like that).
    """
    width = max(min_width, items * per_item + margin)
    return -(-width // 16) * 16


def blank_frame(height: int, width: int, title: str) -> np.ndarray:
    """The picture before the first reset: the environment's name and a reminder."""
    canvas = Canvas.blank(height, width)
    canvas.text(width / 2, height / 2 - 20, title, TEXT, scale=2, align="center")
    canvas.text(width / 2, height / 2 + 4, "CALL RESET() FIRST", MUTED, scale=2, align="center")
    return canvas.pixels


def format_number(value: float, digits: int = 3) -> str:
    """A short number for a label: 0.123, 12.3, 123, 1.2K."""
    value = float(value)
    if abs(value) >= 10_000:
        return f"{value / 1000:.0f}K"
    if abs(value) >= 1000:
        return f"{value / 1000:.1f}K"
    return f"{value:.{digits}g}"
