"""A card with a table, inline and display math and highlighted code: what the converter,
the Anki engine and the real desktop are checked with."""

from __future__ import annotations

CARD_ID = "verteilungen-mit-formeln"
# Markdown escapes would eat "\{", "\\" and "\_", and pair up "*" and "_" as emphasis.
INLINE_TEX = r"A = \{x \mid x_1 * x_2 > 0\} \cup \{y_i\}"
DISPLAY_TEX = (
    "\nf(x) = \\frac{1}{\\sigma\\sqrt{2\\pi}} e^{-\\frac{(x-\\mu)^2}{2\\sigma^2}}"
    " \\\\ \\{ a_1 * b_2 \\} \\_\n"
)
TABLE_TEX = ("\\mu", "\\sigma^2", "np", "np(1-p)")
CODE = (
    "def dichte(x: float, mu: float = 0.0) -> float:\n"
    '    return math.exp(-((x - mu) ** 2) / 2)  # "Glocke"\n'
)
# Five columns: wider than a phone, so the table scrolls inside itself.
TABLE = (
    "| Verteilung | Erwartungswert | Varianz | Typisches Anwendungsbeispiel | Anmerkung |\n"
    "| --- | :---: | ---: | --- | --- |\n"
    f"| Normalverteilung | ${TABLE_TEX[0]}$ | ${TABLE_TEX[1]}$ | Messfehler | stetig |\n"
    f"| Binomialverteilung | ${TABLE_TEX[2]}$ | ${TABLE_TEX[3]}$ | Qualitätskontrolle | diskret |\n"
)

MARKDOWN = f"""\
# Formeln

## Welche Verteilungen, Mengen und Formeln? {{#{CARD_ID}}}

Die Menge ${INLINE_TEX}$ und die Dichte:

$${DISPLAY_TEX}$$

{TABLE}
```python
{CODE}```

Preis: $5 und $10, im Code `$x$`.
"""
