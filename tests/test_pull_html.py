"""Anki's HTML back to Markdown (``kam_anki.unrender``) and the answer rewritten line by line
(``kam_anki.splice``): what ``pull`` writes into a card."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from kam_anki.ankihtml import Unsayable
from kam_anki.mdtext import canonical
from kam_anki.render import render_answer, render_question
from kam_anki.splice import splice
from kam_anki.unrender import answer_markdown, question_markdown


def back(html: str, *, allow_html: bool = False) -> str:
    return answer_markdown(
        html, allow_html=allow_html, image_path=lambda name: name, image_name=lambda s, _: s
    )


@pytest.mark.parametrize(
    ("html", "markdown"),
    [
        # Anki's editor: a div per line, no-break spaces, <b>/<i>, a trailing line break.
        ("<div>Erste Zeile</div><div>zweite&nbsp;<b>fett</b></div><div><br></div>",
         "Erste Zeile\nzweite **fett**"),
        ("<ul><li>a<span></span></li><li><i>b </i>c<br></li></ul>", "- a\n- *b* c"),
        ('<p><span class="label">Ziel:</span><br>\nmehr Umsatz</p>', "Ziel:\nmehr Umsatz"),
        ("<ul>\n<li>eins\n<ul>\n<li>zwei</li>\n</ul>\n</li>\n</ul>", "- eins\n  - zwei"),
        ('<ol start="3">\n<li>drei</li>\n<li>vier</li>\n</ol>', "3. drei\n4. vier"),
        ("<ul><li>a</li></ul><ul><li>b</li></ul>", "- a\n\n* b"),
        ("<p>Code <code>a `b` c</code> und <a href=\"https://example.org/a b\">Link</a></p>",
         "Code ``a `b` c`` und [Link](<https://example.org/a b>)"),
        ("<p>5 * 3 = [15] &lt;ok&gt; &amp;amp; a_b _c</p>",
         "5 \\* 3 = \\[15] \\<ok> \\&amp; a_b \\_c"),
        # Escapes open no math: "\\[" only where no "\\]" follows; "$" and "|" escaped.
        ("<p>[a] \\] $5 | b</p>", "&#91;a] \\\\] \\$5 \\| b"),
        # Math as Anki's MathJax reads it, with its LaTeX as it is; the build's cut
        # (a backslash, an empty span, a parenthesis) is text.
        ('<p>Es gilt <span class="math">\\(a_{1} = \\{x\\} \\\\ b*c &lt; d\\)</span></p>',
         "Es gilt \\(a_{1} = \\{x\\} \\\\ b*c < d\\)"),
        ("<div>Neu: \\[x^2\\] und \\(y\\)</div>", "Neu: \\[x^2\\] und \\(y\\)"),
        ('<div class="math math-display">\\[\na_1 \\\\\nb_2\n\\]</div>', "\\[\na_1 \\\\\nb_2\n\\]"),
        ("<p>\\<span></span>(kein \\<span></span>)</p>", "\\\\(kein \\\\)"),
        # A table, its alignment from its header; a '|' in a cell (in code too) escaped.
        ("<table><thead><tr><th>A</th><th style=\"text-align:right\">B</th></tr></thead>"
         "<tbody><tr><td>x | y</td><td style=\"text-align:right\"><code>c|d</code></td>"
         "</tr></tbody></table>",
         "| A | B |\n| --- | --: |\n| x \\| y | `c\\|d` |"),
        # Highlighted code: its text in a fence with its language.
        ('<pre><code class="language-python"><span class="k">def</span><span class="w"> '
         '</span><span class="nf">f</span><span class="p">():</span> <span class="k">pass'
         "</span>\n</code></pre>", "```python\ndef f(): pass\n```"),
        ("<p>1. kein Punkt<br>- kein Punkt<br># kein Titel<br>• kein Punkt</p>",
         "1\\. kein Punkt\n\\- kein Punkt\n\\# kein Titel\n&#8226; kein Punkt"),
        ("<pre><code class=\"language-py\">x = 1\n```\n</code></pre>",
         "````py\nx = 1\n```\n````"),
        ("<p>a<br><br>b</p>", "a\n\\\nb"),
        ('<p><img src="abc123.png" alt="Skizze"></p>', "![Skizze](abc123.png)"),
        ("<p></p><p>nach leerem Absatz</p>", "nach leerem Absatz"),
        ("<div>Ziel:</div>\n<ul><li>a</li></ul>", "Ziel:\n\n- a"),
        ("<ul><li>a</li></ul><br><div><br></div>", "- a"),
        ('<span style="font-weight: bold;">fett</span> und <span style="font-style:italic">'
         "schräg</span>", "**fett** und *schräg*"),
        ("<ul><li>Punkt<pre><code>code\n</code></pre>\n</li></ul>",
         "- Punkt\n  ```\n  code\n  ```"),
    ],
)  # fmt: skip
def test_anki_html_comes_back_as_the_markdown_the_build_accepts(html: str, markdown: str) -> None:
    assert back(html) == markdown
    assert canonical(render_answer(markdown).html) == canonical(html)


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ('a <span style="color: rgb(255, 0, 0);">rot</span>', "allow_html = false"),
        ("<u>unterstrichen</u>", "<u>: Markdown cannot say it"),
        ("<h2>Titel</h2>", "<h2>: Markdown cannot say it here"),
        ("<table><tr><td>x</td></tr></table>", "<table>"),
        ("<table><tr><th>a<br>b</th></tr></table>", "a line break or a block in a table cell"),
        ('<pre><code class="language-py"><b>x</b></code></pre>', "code with markup inside"),
        ('<p><a href="javascript:alert(1)">x</a></p>', "cannot say it exactly"),
        ("<div><br></div><p></p>", "emptied the answer"),
        ("<p>a\x07b</p>", "U+0007 (a control character): Anki cannot keep it in a card"),
        ("<p>a\ufdd1b</p>", "U+FDD1 (unassigned): a noncharacter"),
    ],
)
def test_what_markdown_cannot_say_is_refused_with_the_reason(html: str, reason: str) -> None:
    with pytest.raises(Unsayable, match=re.escape(reason)):
        back(html)


def test_with_html_allowed_a_coloured_word_comes_back_as_html() -> None:
    html = 'a <span style="color: red">rot</span> b'
    markdown = back(html, allow_html=True)
    assert markdown == 'a <span style="color: red">rot</span> b'
    assert canonical(render_answer(markdown, allow_html=True).html) == canonical(html)


def test_a_question_comes_back_as_one_heading_line() -> None:
    assert (
        question_markdown(
            "Ziele des <b>KAM</b>? (5)&nbsp;", allow_html=False, image_path=lambda s: s
        )
        == "Ziele des **KAM**? (5)"
    )
    assert question_markdown("C# ##", allow_html=False, image_path=lambda s: s) == "C# \\##"
    with pytest.raises(Unsayable, match="one line"):
        question_markdown("a<br>b", allow_html=False, image_path=lambda s: s)


def test_editor_noise_shows_nothing_and_compares_equal() -> None:
    built = "<ul>\n<li>Eins</li>\n<li><strong>Zwei</strong></li>\n</ul>\n"
    edited = "<ul><li>Eins&nbsp;</li><li><b>Zwei</b><br></li></ul><div><br></div>"
    assert canonical(built) == canonical(edited)
    assert canonical(built) != canonical(built.replace("Zwei", "Drei"))


AUTHORED = """Einleitung mit
zwei Zeilen

<!-- eine Notiz des Autors -->
• Schlüsselkundengewinnung und -sicherung
• Kontraktmanagement
  * tief eins
  * tief zwei
• Dritter Punkt

Ziel:
1) eins
2) zwei"""


def test_a_splice_changes_only_the_lines_that_show_differently() -> None:
    learner = (
        "Einleitung mit\nzwei Zeilen\n\n- Schlüsselkundengewinnung und -sicherung\n"
        "- **Kontraktmanagement**\n  - tief eins\n  - tief 2\n- Dritter Punkt\n- Vierter\n\n"
        "Ziel:\n\n1. eins\n2. zwei neu"
    )
    result = splice(AUTHORED, learner)
    assert result.split("\n") == [
        "Einleitung mit",
        "zwei Zeilen",
        "",
        "<!-- eine Notiz des Autors -->",
        "• Schlüsselkundengewinnung und -sicherung",
        "• **Kontraktmanagement**",
        "  * tief eins",
        "  * tief 2",
        "• Dritter Punkt",
        "• Vierter",
        "",
        "Ziel:",
        "1) eins",
        "2) zwei neu",
    ]
    assert render_answer(result).html == render_answer(learner).html


def test_a_splice_of_the_same_answer_changes_nothing() -> None:
    assert splice(AUTHORED, back(render_answer(AUTHORED).html)) == AUTHORED


def test_a_splice_that_removes_and_adds_blocks_still_shows_the_learners_text() -> None:
    learner = "Neuer Anfang\n\n- nur noch ein Punkt\n\n```\ncode\n```"
    result = splice(AUTHORED, learner)
    assert render_answer(result).html == render_answer(learner).html


# --- the property: Markdown -> the note's HTML -> pulled back -> the same HTML -------------

# Markdown's specials in the text too, but for * and _: inside words they make emphasis
# that no Markdown can say again (<em>x<em>y</em>z</em>).
_WORD = st.text(
    alphabet="abcxyzÄöüß019 .,:;!?&()-/'\"#+=<>[]`\\~|{}$",
    min_size=1,
    max_size=10,
).filter(lambda w: w.strip() != "")
# LaTeX with what Markdown's escapes would damage: \\{, \\\\, _ and *.
_TEX_PARTS = ["a", "x_1", "\\{", "\\}", "\\\\", "b^2", "*", "<", "&", "\\frac{a}{b}", " + "]
_TEX = st.lists(
    st.sampled_from(_TEX_PARTS),
    min_size=1,
    max_size=6,
).map(lambda parts: "".join(parts).strip() or "a")
_INLINE = st.one_of(
    _TEX.map(lambda tex: f"${tex}$"),
    _TEX.map(lambda tex: f"\\({tex}\\)"),
    _WORD,
    _WORD.map(lambda w: f"**{w.strip()}**"),
    _WORD.map(lambda w: f"*{w.strip()}*"),
    _WORD.map(lambda w: f"`{w}`"),
    _WORD.map(lambda w: f"[{w.strip()}](https://example.org/{w.strip()})"),
)
# A line starts with a word: one that starts with "#" or "- " is another block, and a
# "# " line in an answer would be a chapter of its own. A backslash at its end is a line
# break that keeps the blank before it (<p>a <br>), which shows as the one pulled back.
_LINE = st.tuples(st.sampled_from(["Ab", "zu", "Öl", "1a"]), st.lists(_INLINE, max_size=5)).map(
    lambda parts: " ".join([parts[0], *parts[1]]).rstrip("\\ ")
)
_PARAGRAPH = st.lists(_LINE, min_size=1, max_size=3).map("\n".join)
_LABEL = st.sampled_from(["Ziel:", "Integration:", "Kurz:"])


# A cell: no '|' of its own (it would be a column), no line break.
_CELL = _INLINE.map(str.strip).filter(lambda cell: "|" not in cell and cell != "")


def _table(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join([lines[0], "| --- | :-: |", *lines[1:]])


@st.composite
def _list(draw: st.DrawFn, depth: int = 0) -> str:
    ordered = draw(st.booleans())
    lines: list[str] = []
    for number in range(draw(st.integers(1, 4))):
        marker = f"{number + 1}. " if ordered else "- "
        lines.append(marker + draw(_LINE))
        if depth < 1 and draw(st.integers(0, 4)) == 0:
            nested = draw(_list(depth + 1))
            lines += ["   " + line if ordered else "  " + line for line in nested.split("\n")]
    return "\n".join(lines)


_BLOCK = st.one_of(
    _PARAGRAPH,
    _list(),
    st.tuples(_LABEL, _list()).map("\n".join),
    st.tuples(_LABEL, _LINE).map("\n".join),
    _LINE.map(lambda line: f"### {line}"),
    st.text(alphabet="ab `~\n<>&", max_size=20).map(lambda code: f"````\n{code}\n````"),
    st.tuples(
        st.sampled_from(["python", "js", "sql", "bash"]),
        st.text(alphabet="ab =()'\"\n:<>&{}#$\\", max_size=30),
    ).map(lambda lc: f"```{lc[0]}\n{lc[1]}\n```"),
    _TEX.map(lambda tex: f"$$\n{tex}\n$$"),
    _TEX.map(lambda tex: f"\\[{tex}\\]"),
    st.builds(_table, st.lists(st.lists(_CELL, min_size=2, max_size=2), min_size=1, max_size=3)),
)
_ANSWER = st.lists(_BLOCK, min_size=1, max_size=4).map("\n\n".join)


_BUILT_MATH = re.compile(r'class="math[^"]*">\\[(\[](.*?)\\[)\]]</(?:span|div)>', re.DOTALL)


def _math_as_built(html: str) -> bool:
    """MathJax reads each formula the build wrote as one: "$a \\) b$" is built as
    ``\\(a \\) b\\)``, which shows the formula "a " and the text " b\\)" (the pulled
    Markdown says that, and renders otherwise than the build did)."""
    return not any("\\)" in tex or "\\]" in tex for tex in _BUILT_MATH.findall(html))


@given(_ANSWER)
@example("a **b** *c* `d`\n\n- e\n  - f\n\nZiel:\n1. g")
@example("* [x](https://example.org/x)")
def test_markdown_rendered_and_pulled_back_renders_to_the_same_html(markdown: str) -> None:
    html = render_answer(markdown).html
    assume(_math_as_built(html))
    pulled = back(html)
    assert render_answer(pulled).html == html
    assert splice(markdown, pulled) == markdown  # nothing changed: no line changes


@given(_ANSWER, _ANSWER)
def test_an_answer_spliced_with_the_learners_shows_the_learners(old: str, new: str) -> None:
    html = render_answer(new).html
    assume(_math_as_built(html))
    assert render_answer(splice(old, back(html))).html == html


@given(_LINE)
def test_a_question_rendered_and_pulled_back_renders_the_same(question: str) -> None:
    html = render_question(question)
    assume(_math_as_built(html))
    again = question_markdown(html, allow_html=False, image_path=lambda s: s)
    assert render_question(again) == html


def test_a_changed_line_of_a_paragraph_leaves_its_other_lines_as_written() -> None:
    old = "Eins [x] & mehr\nZwei\nDrei _y_"
    learner = back(render_answer(old.replace("Zwei", "Zwo")).html)
    assert learner == "Eins \\[x] & mehr\nZwo\nDrei *y*"
    assert splice(old, learner) == "Eins [x] & mehr\nZwo\nDrei _y_"
