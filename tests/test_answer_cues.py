"""Answer-type cues, entity coverage, the antecedent rule and short answers: exact examples."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from indexer.schema import Chunk, Sentence, Span
from indexer.sentences import paragraph
from indexer.text import contains_answer, normalize_answer, path_words
from retriever.answer import (
    FEATURES,
    ScoredSentence,
    SpanConfig,
    answer_sentences,
    asks_why,
    confidence,
    entry_description,
    entry_term,
    gives_reason,
    novelty,
    score_sentences,
)
from retriever.cues import (
    asked_property,
    contents_entry,
    entity_coverage,
    is_heading,
    known_names,
    new_names,
    numbered_heading,
    question_entities,
    question_type,
    states,
    table_question,
    type_match,
    unmet,
)
from retriever.short import short_answer, short_offsets


@pytest.mark.parametrize(("question", "kind"), [
    ("How much did Amazon invest in Anthropic?", "money"),
    ("How large was the deal's investment?", "money"),
    ("What share of revenue is spent on chips?", "percent"),
    ("How long can returns take?", "duration"),
    ("How many users are there?", "number"),
    ("How big was Debian 2.2 in lines of source code?", "number"),  # a size, an age, a height: a quantity
    ("How old was he when he died?", "number"),
    ("What numeric uid does www-data have?", "number"),
    ("What decides how fast a tool works?", None),  # not what is asked
    ("When did OpenAI announce it?", "date"),
    ("What is the date of version 1.1 of the licence?", "date"),
    ("Until what year will spending grow?", "date"),
    ("Where was the conference held?", "place"),
    ("Who runs Nvidia?", "name"),
    ("Which carmaker spent heavily?", None),  # one corpus's nouns are not a question type
    ("Which person spoke first?", "name"),
    ("Which cloud company is its partner?", "name"),
    ("What did the company say?", None),
    ("What is xAI valued at?", "money"),
    ("How does the podcast sum up the deals?", None),  # "sum up" is no amount
    ("Why are smaller players shut out?", None),
])
def test_question_type(question, kind):
    assert question_type(question) == kind


def test_type_match_wants_a_new_name_for_who_questions():
    q = "Whose podcast appearances are shown?"
    assert type_match("name", "Podcast Appearances", q) == 0.0  # only echoes the question
    assert type_match("name", "Seth Fiegeman", q) == 1.0
    assert new_names("| Key Player | OpenAI |", "Who is the key player?") == ["OpenAI"]
    assert type_match("money", "It cost $8 billion.", "") == 1.0
    assert type_match("money", "It cost a lot.", "") == 0.0
    assert type_match(None, "anything", "") == 0.5
    # a sentence may open with a name: it counts when the passages use it as one elsewhere
    assert type_match("name", "Anthropic, for instance, got $8 billion.", "Who got money?") == 0.0
    assert type_match("name", "Anthropic, for instance, got $8 billion.", "Who got money?",
                      frozenset({"anthropic"})) == 1.0
    assert known_names("| Anthropic | Amazon |. Investors left.") == {"anthropic", "amazon"}
    # relative dates are dates
    assert type_match("date", "Deals will come in the coming quarters.") == 1.0
    assert type_match("date", "Deals will come soon.") == 0.0
    # ... and so are times of day and plural weekdays ("When does the shop close?")
    for text in ("It closes at noon on Sundays.", "Backups run at 2:30 every night.", "It opens at 9 am."):
        assert type_match("date", text) == 1.0, text
    assert type_match("date", "A 3:1 majority is needed.") == 0.0
    # a count may be given in words, but a pronoun "one" is no count
    assert type_match("number", "A small number of firms can afford it.") == 1.0
    assert type_match("number", "Only a handful can.") == 1.0
    assert type_match("number", "Only one company can.") == 1.0
    assert type_match("number", "The tone was one that felt urgent.") == 0.0
    assert type_match("number", "Many firms can afford it.") == 0.0


def test_a_year_a_version_or_the_questions_own_number_is_no_count():
    q = "How many votes did she get in the 2020 election?"
    assert type_match("number", "She was elected in April 2020.", q) == 0.0
    assert type_match("number", "She got 300 votes in 2020.", q) == 1.0
    assert type_match("number", "Version 4.0.0 came out on 9 July.", "How many copies were sold?") == 0.0
    assert type_match("number", "It was published in 1996 in two volumes.", "How many copies were sold?") == 1.0
    # unless the question counts years (or days, or times) itself
    assert type_match("number", "Debian was founded in 1993.", "How many years has Debian existed?") == 1.0


def test_question_entities_and_coverage():
    q = "How much did Google invest in Anthropic in 2026?"
    assert question_entities(q) == ("google", "anthropic", "2026")
    assert entity_coverage(q, "Anthropic received $8 billion from Amazon in 2026.") == pytest.approx(2 / 3)
    weights = {"google": 3.0, "anthropic": 1.0, "2026": 0.0}
    assert entity_coverage(q, "Anthropic got it.", weights.get) == pytest.approx(1 / 4)
    assert entity_coverage("what is a moat?", "no names at all") == 1.0


def test_novelty():
    assert novelty({"podcast", "appear"}, "Podcast Appearances") == 0.0
    assert novelty({"podcast"}, "Podcast guests") == 0.5


def _sentence(text, start, i):
    return Sentence(text, "d.txt", start, start + len(text), 1, 1, id=i)


def test_answer_takes_the_antecedent_when_the_sentence_points_back():
    s0 = _sentence("Future data centers might use cooling systems.", 0, 0)
    s1 = _sentence("These systems could reduce the impact.", 47, 1)
    s2 = _sentence("Prices fell.", 86, 2)
    chunk = Chunk(" ".join(x.text for x in (s0, s1, s2)), "d.txt", 0, 98, 1, 1, id=0, first_sentence=0,
                  last_sentence=2)
    best = ScoredSentence(s1, chunk, 1.0, (0.0,) * 6)
    assert answer_sentences(best, [s0, s1, s2], SpanConfig()) == [s0, s1]
    assert answer_sentences(best, [s0, s1, s2], SpanConfig(max_answer_chars=60)) == [s1]  # too long together
    assert answer_sentences(ScoredSentence(s2, chunk, 1.0, (0.0,) * 6), [s0, s1, s2], SpanConfig()) == [s2]
    assert answer_sentences(ScoredSentence(s0, chunk, 1.0, (0.0,) * 6), [s0, s1, s2], SpanConfig()) == [s0]
    # a question is no antecedent: the asker knows it ("Can chronyd do X?" / "It is not possible ...")
    q = _sentence("Can these cooling systems be used?", 0, 0)
    assert answer_sentences(best, [q, s1, s2], SpanConfig()) == [s1]
    rule = _sentence("---", 0, 0)  # a Markdown rule before the answer: no sentence, no antecedent
    assert answer_sentences(best, [rule, s1, s2], SpanConfig()) == [s1]


def test_a_why_answer_without_a_reason_runs_on_into_the_next_sentence():
    text = "The use of git:// is discouraged. The protocol lacks authentication.\n\nUse https."
    s0 = _sentence("The use of git:// is discouraged.", 0, 0)
    s1 = _sentence("The protocol lacks authentication.", 34, 1)
    s2 = _sentence("Use https.", 70, 2)
    assert text[s1.start_char:s1.end_char] == s1.text and text[s2.start_char:s2.end_char] == s2.text
    chunk = Chunk(text, "d.txt", 0, len(text), 1, 3, id=0, first_sentence=0, last_sentence=2)
    best = ScoredSentence(s0, chunk, 1.0, (0.0,) * 6)
    why = "Why is the plain git:// scheme discouraged?"
    assert answer_sentences(best, [s0, s1, s2], SpanConfig(), why) == [s0, s1]
    assert answer_sentences(best, [s0, s1, s2], SpanConfig(reason_follows=False), why) == [s0]
    assert answer_sentences(best, [s0, s1, s2], SpanConfig(), "Is git:// discouraged?") == [s0]  # no why
    assert answer_sentences(best, [s0, s1, s2], SpanConfig()) == [s0]  # no question given
    assert answer_sentences(best, [s0, s1, s2], SpanConfig(max_answer_chars=50), why) == [s0]  # too long together
    # the next paragraph is not the same claim's explanation
    assert answer_sentences(ScoredSentence(s1, chunk, 1.0, (0.0,) * 6), [s0, s1, s2], SpanConfig(), why) == [s1]
    # an answer that gives its reason needs no more
    r0 = _sentence("It is discouraged because it lacks TLS.", 0, 0)
    assert answer_sentences(ScoredSentence(r0, chunk, 1.0, (0.0,) * 6), [r0, s1], SpanConfig(), why) == [r0]
    # a sentence that asks is no answer to run on from
    q0 = _sentence("Why is git:// discouraged?", 0, 0)
    assert answer_sentences(ScoredSentence(q0, chunk, 1.0, (0.0,) * 6), [q0, s1], SpanConfig(), why) == [q0]


def _sentences_of(text, *pieces):
    out, pos = [], 0
    for i, piece in enumerate(pieces):
        start = text.index(piece, pos)
        out.append(_sentence(piece, start, i))
        pos = start + len(piece)
    return out


def test_a_definition_list_entry_is_shown_whole():
    text = ("DESCRIPTION\n       List information about the FILEs.\n\n"
            "       -a, --all\n              do not ignore entries starting with .\n\n"
            "       --copy-contents\n              copy contents of special files when recursive.  More here.\n")
    pieces = ("DESCRIPTION", "List information about the FILEs.", "-a, --all", "do not ignore entries starting with .",
              "--copy-contents", "copy contents of special files when recursive.", "More here.")
    ss = _sentences_of(text, *pieces)
    chunk = Chunk(text, "ls.txt", 0, len(text), 1, 7, id=0, first_sentence=0, last_sentence=6)
    q = "How do I list hidden files?"

    def shown(i, config=SpanConfig(), question=q):
        return [x.text for x in answer_sentences(ScoredSentence(ss[i], chunk, 1.0, (0.0,) * 6), ss, config, question)]

    assert shown(3) == ["-a, --all", "do not ignore entries starting with ."]  # the description, with its term
    assert shown(4) == ["--copy-contents", "copy contents of special files when recursive."]  # the term, described
    assert shown(6) == ["More here."]  # no description's first sentence
    assert shown(1) == ["List information about the FILEs."]  # a heading is no term
    assert shown(3, question=None) == ["do not ignore entries starting with ."]  # as the checks read it
    assert shown(3, SpanConfig(whole_entry=False)) == ["do not ignore entries starting with ."]
    assert shown(3, SpanConfig(max_answer_chars=40)) == ["do not ignore entries starting with ."]  # too long
    assert entry_term(ss[3], chunk, ss) == ss[2] and entry_description(ss[2], chunk, ss) == ss[3]
    assert entry_term(ss[2], chunk, ss) is None  # a blank line above: no term


def test_a_markdown_definition_is_shown_with_its_term():
    text = "Global\n: In the `XDG_CONFIG_DIRS` paths.\n\nUser\n: `$HOME/.config/pip/pip.conf`, which respects XDG.\n"
    ss = _sentences_of(text, "Global", "In the `XDG_CONFIG_DIRS` paths.", "User",
                       "`$HOME/.config/pip/pip.conf`, which respects XDG.")
    chunk = Chunk(text, "c.md", 0, len(text), 1, 5, id=0, first_sentence=0, last_sentence=3)
    best = ScoredSentence(ss[3], chunk, 1.0, (0.0,) * 6)
    assert [x.text for x in answer_sentences(best, ss, SpanConfig(), "Where is the user config?")] == [
        "User", "`$HOME/.config/pip/pip.conf`, which respects XDG."]
    assert entry_term(ss[1], chunk, ss) == ss[0]


def test_asks_why_and_gives_reason():
    assert asks_why("Why shouldn't I disable pip's caching?")
    assert asks_why("For what reason was the policy split out?")
    assert asks_why("curl hangs when I pull the cable - why?")
    assert asks_why("How come pip downloads several versions?")
    assert not asks_why("Who wrote it?")
    assert not asks_why("What comparison does the article use to explain why prices rise?")  # names a why
    assert gives_reason("Doing so can slow down pip (due to repeated operations).")
    assert gives_reason("This is to avoid concentration of power.")
    assert not gives_reason("The ar format was adopted.")


@pytest.mark.parametrize(("question", "text", "short"), [
    ("How much did Amazon invest in Anthropic?",
     "Anthropic, for instance, received an $8 billion investment from Amazon.", "$8 billion"),
    ("What is the estimate for AI infrastructure spending by 2030?",
     "Huang estimated that between $3 trillion and $4 trillion will be spent by 2030.",
     "between $3 trillion and $4 trillion"),
    ("Which company spent heavily before proving electric cars?",
     "Before demonstrating the viability of electric vehicles, Tesla spent a lot of money.", "Tesla"),
    ("What is the key trend according to the table?", "| Key Trend | Increasing model size |",
     "Increasing model size"),
    ("How many people use it every week?", "It has hundreds of millions of users each week.", "hundreds of millions"),
    ("In what city was the event?", "Last October, an AI conference in San Francisco drew a line.", "San Francisco"),
    ("When was the interview?", "Amodei raised it in a February interview.", "February"),
    ("How long can payback take?", "Timelines for ROI can stretch into decades.", "decades"),
    ("Why are smaller players shut out?", "They cannot compete.", None),
])
def test_short_answers(question, text, short):
    found = short_offsets(question, text)
    assert (None if found is None else text[found[0]:found[1]]) == short


def test_short_answer_keeps_exact_offsets_and_lines():
    doc = "Intro line.\nIt was worth\n$8 billion in all."
    span = Span(doc[12:], "d.txt", 12, len(doc), 2, 3)
    short = short_answer("How much was it worth?", span)
    assert short is not None and short.text == "$8 billion"
    assert doc[short.start_char:short.end_char] == short.text
    assert (short.start_line, short.end_line) == (3, 3)


@pytest.mark.parametrize(("question", "span", "para", "problems"), [
    # the named thing is in the span: fine
    ("How much did Amazon invest in Anthropic?", "Anthropic received $8 billion from Amazon.", "", []),
    # no other name in the span: the paragraph may have named it before ("it", "its models")
    ("How many people use OpenAI's models every week?", "Hundreds of millions of users interact each week.",
     "OpenAI is at the center. Hundreds of millions of users interact each week.", []),
    ("Which companies are OpenAI's major rivals?", "| Major Rivals | Anthropic, Meta |",
     "| Key Player | OpenAI |\n| Major Rivals | Anthropic, Meta |", []),
    # an amount must be there when an amount is asked for
    ("How much did Google invest in Anthropic?", "Anthropic and Google are making investments.", "",
     ["holds no money"]),
    # a weightless name in the span is not "another name in its place"
    ("What does the moat mean in Amodei's view?", "But AI systems could shrink the moat.",
     "Amodei raised a concern. But AI systems could shrink the moat.", []),
    # a word weightless in the corpus is not required
    ("How much is AI worth to Meta?", "Meta expects $5 billion.", "", []),
    # "how many X" with an X the documents never mention
    ("How many employees does Anthropic have?", "Anthropic has 8 offices.", "",
     ["the documents never mention employees"]),
    # an acronym the documents never use may be spelled out there
    ("What do VC investors discuss?", "Venture capitalists discuss uncertainty.", "", []),
    # the property asked about must be stated: naming the company is not stating its market share
    ("What is Meta's market share in search?", "Meta builds search tools.", "", ["does not mention market share"]),
    ("What is Meta's market share in search?", "Meta holds 12% of the search market, a small share.", "", []),
    # ... in the span or its paragraph (a table's header names the column)
    ("What is the purpose of the Oracle deal?", "| Oracle | Cloud capacity |",
     "| Company | Purpose |\n| Oracle | Cloud capacity |", []),
    ("What was Oracle's revenue last quarter?", "| Oracle | Cloud capacity ($5B) |",
     "| Company | Purpose |\n| Oracle | Cloud capacity ($5B) |", ["does not mention revenue"]),
    # a past event asked about must be stated, by the verb or a word of its family (founder)
    ("Who founded Acme?", "| Rivals | Acme, Globex |", "", ["does not mention founded"]),
    ("Who founded Acme?", "Acme's founder, Jane Roe, left.", "", []),
    # ... and so must the event a when-question asks the date of (any date will not do)
    ("When was Acme founded?", "Acme's CEO spoke in a February interview.", "", ["does not mention founded"]),
    ("When was Acme founded?", "Acme was founded in 2021.", "", []),
    # a title's acronym states it ("chief executive": CEO)
    ("Who is the chief executive of Acme?", "Acme CEO Jane Roe spoke.", "", []),
])
def test_unmet(question, span, para, problems):
    unknown = {"employe", "vc"}
    assert unmet(question, span, para or span, unknown) == problems


@pytest.mark.parametrize(("question", "focus"), [
    ("What is OpenAI's market share in the chatbot market?", ("market", "share")),
    ("What was Big Tech's revenue last quarter?", ("revenue",)),
    ("What is the capital of France?", ("capital",)),
    ("Who is the chief executive of Acme?", ("chief", "executive")),
    ("Where is Acme building its next data center?", ("next", "data", "center")),
    ("When did Globex sign its cloud deal?", ("cloud", "deal")),
    ("Who founded xAI?", ("founded",)),
    ("When was Acme founded?", ("founded",)),
    ("When were Phobos and Deimos discovered?", ("discovered",)),
    ("Which company acquired Windsurf?", ("acquired",)),
    ("What did Jane Roe say about chip export controls?", ("chip", "export", "controls")),
    ("What does the article say about the power grid?", ("power", "grid")),
    ("What does the deals table say about Loveable?", ()),  # a name is checked as a name
    ("What do people think about instead of the hardware behind AI?", ()),
    ("What did Jane Roe say about what happened?", ()),  # a clause, not a topic to look for
    # a role of three words, the act in "who VERBed the X", the state in "in which city is X VERBed"
    ("Who is Acme's chief financial officer?", ("chief", "financial", "officer")),
    ("Who is shutting out the players?", ()),
    ("Who conducted the interview with Jane Roe?", ("conducted",)),
    ("Who used to run the servers?", ()),
    ("In which city is Acme headquartered?", ("headquartered",)),
    ("What did Jane Roe say about export controls", ("export", "controls")),  # no question mark
    # a part or an aspect of what follows is not a property a text states in those words
    ("What is the low end of Acme's spending estimate?", ()),
    ("What is the rest of the money for?", ()),
    # shapes that do not show the property: no check
    ("Who runs Acme?", ()),  # a present role is stated by a title (CEO), not by the verb
    ("What is the cloud reborn as?", ()),
    ("How many people use OpenAI's models every week?", ()),
    ("Why did people begin to question the idea?", ()),
    # "I" is the asker, not a name: the task is in the asker's words, not the text's ("folder", "directories")
    ("How do I copy a folder with everything inside it?", ()),
    ("How can I show the current time in Los Angeles?", ()),
    ("How did Ivan copy the folder?", ("folder",)),  # a name that begins with I is still one
])
def test_asked_property(question, focus):
    assert asked_property(question) == focus


def test_an_acronym_spelling_a_common_word_is_a_name():
    q = "Who used to look after the servers?"
    assert unmet(q, "Servers were handled by IT departments.", "", set()) == []
    assert unmet(q, "Servers were handled by it in the past.", "", set()) == ["holds no name"]


def test_how_much_is_answered_by_an_amount_of_memory_too():
    q = "How much RAM is needed to compile it?"
    assert unmet(q, "At least 8GB of RAM is typically required when compiling with 4 jobs.", "", set()) == []
    assert unmet(q, "The worst case is 5 bytes per 32 KiB block.", "", set()) == []
    assert unmet(q, "Compiling takes a while on a small machine.", "", set()) == ["holds no money"]
    assert unmet("How much did Acme pay?", "It grew 8 times.", "", set()) == ["holds no money"]


def test_when_wants_a_date_only_for_a_point_in_time():
    # a past event, or a named unit: a date or a time must be there
    for q in ("When was the manifesto revised?", "When did the vote close?", "In what year was it founded?",
              "By when must the ballot be published?", "When is the next full moon?", "When will it ship?"):
        assert unmet(q, "The ballot is published after the discussion.", "", set()) == ["holds no date"], q
        assert unmet(q, "It was revised in March 1994.", "", set()) == [], q
    # "do" or a modal: an occasion or a condition answers too
    for q in ("When do long tests run?", "When should I pass --force?", "When might Amazon back other players?"):
        assert unmet(q, "Long tests run on all commits to the release branch.", "", set()) == [], q
    # the type still counts in the score
    assert type_match(question_type("When do long tests run?"), "on all commits") == 0.0


def test_a_group_may_answer_who_is_verbed():
    q = "Who is effectively shut out of the market?"
    assert unmet(q, "Smaller players are essentially shut out.", "", set()) == []
    # "who believes ...", "whose ...", "for whom ...": a group too
    assert unmet("Who believes better methods matter?", "Some researchers say so.", "", set()) == []
    assert unmet("Whose hopes are dashed?", "Investors hoped otherwise.", "", set()) == []
    q = "With which group of people does doubt come up?"
    assert unmet(q, "Doubt comes up with venture capitalists.", "", set()) == []
    # a role wants a name; a group the question already names is no answer
    assert "holds no name" in unmet("Who is the head of the firm?", "Big companies hire bosses.", "", set())
    assert "holds no name" in unmet("Who is Jane Roe?", "Investors like her.", "", set())
    for q in ("Who is currently the CEO of Acme?", "who is acme's ceo?", "Who is xAI's chief scientist?"):
        assert "holds no name" in unmet(q, "The company's investors are patient.", "", set()), q
    q = "Who is shutting out players?"
    assert unmet(q, "Smaller players are shut out.", "", set()) == ["holds no name"]


def test_states_by_stem_family_and_acronym():
    assert states(("market", "share"), "Its share of the market grew.")
    assert not states(("market", "share"), "The market grew.")  # the modifier alone is not the property
    assert states(("description",), "He described it as a moat.")
    assert states(("chief", "executive"), "Acme CEO Jane Roe")
    assert not states(("revenue",), "| Acme | $5B |")


def test_a_dateline_answers_when():
    # a date in figures is a date; a dateline, short and unpunctuated as a heading is, answers "when" and
    # "what is the date of ...", which it need not say in words
    assert type_match("date", "Revised 01/06/94") == 1.0 and type_match("date", "kernel 2.6.10") == 0.0
    for question, line in [("When was the manifesto last revised?", "Revised 01/06/94"),
                           ("What is the date of version 1.1 of the licence?", "Version 1.1 - 26 February 2007")]:
        assert is_heading(line) and unmet(question, line, line, set()) == []
    assert unmet("What is the licence's version?", "Version 1.1 - 26 February 2007", "", set()) == ["is a heading"]


def test_headings_and_table_questions():
    assert is_heading("Podcast Appearances") and is_heading("Why This Matters to You")
    assert not is_heading("That's right.") and not is_heading("| Key Player | OpenAI |")
    assert not is_heading("Look, we get it") and not is_heading("the race goes on")
    assert not is_heading("Software Development231")  # a list item with its count
    assert is_heading("The Nvidia H100")  # a model name is no count
    # a manual page's running footer and header, not a sentence that names a page
    assert is_heading("GNU coreutils 9.1               September 2022                           WC(1)")
    assert is_heading("WC(1)                            User Commands                           WC(1)")
    assert not is_heading("See grep(1)") and not is_heading("It is documented in sort(1)")
    # a numbered section's title may close with a full stop; a numbered sentence is still a sentence
    assert is_heading("Section 6 -- Term and Termination.") and is_heading("10. Automatic Licensing of Downstream.")
    assert is_heading("1. Definitions.") and is_heading("4.2 Adding the Package.")
    assert not is_heading("3.3 Contributors may not remove or alter any copyright.")
    assert not is_heading("1. Install the package.") and not is_heading("Terms and Conditions.")
    # a title may close with an aside in brackets (its short name, its version); a sentence's aside is no title
    assert is_heading("The Debian Free Software Guidelines (DFSG)") and is_heading("Constitution (v1.9)")
    assert not is_heading("Hackers eat pizza (mostly)") and not is_heading("(DFSG)")
    # a numbered section's title in sentence case, its number cut off by the sentence splitter (a PDF's
    # "2.5. Suppressing errors"); a numbered list's item is no section ("3. install it with pip")
    assert numbered_heading("Suppressing errors", "are.\n2.5. Suppressing errors\nThe tools detect ...")
    assert numbered_heading("Term and termination", "Section 6 -- Term and termination\n")
    assert not numbered_heading("install it with pip", "3. install it with pip\n")
    assert not numbered_heading("Suppressing errors", "Suppressing errors\nText.")
    assert not numbered_heading("The tools detect problems.", "2.5. The tools detect problems.\n")
    assert unmet("How do I suppress errors?", "Suppressing errors", "2.5. Suppressing errors\nText.", set()) == \
        ["is a heading"]
    # a table of contents' entry (dot leader, page number), on its line or on the line it runs on into
    toc = ('5.1. Can you write my suppression for me? ..................... 6\n'
           '5.2. What\'s the difference between "definitely lost", "indirectly\nlost", and "suppressed"? ......... 6\n')
    assert contents_entry("Can you write my suppression for me?", toc)
    assert contents_entry('What\'s the difference between "definitely lost", "indirectly', toc)
    assert not contents_entry("Use this option carefully.", "Use this option carefully.\nMore text.")
    assert not contents_entry("The version is 1.2.3.4.5.6 now", "The version is 1.2.3.4.5.6 now\n")
    assert "is a table of contents entry" in unmet("What is the difference?", "Can you write my suppression for me?",
                                                   toc, set())
    assert table_question("What is the key trend according to the summary table?")
    assert table_question("How much did Nvidia put in, in the table?")
    assert not table_question("Which companies are at the table in these talks?")  # an idiom
    assert not table_question("Is a merger on the table?")
    assert table_question("What columns does the AI infrastructure deals table have?")
    assert not table_question("Who sits at the big round table?")
    # a question about a table wants a table row; a heading answers nothing but a who-question
    assert unmet("What purpose does the table give for the deal?", "The deal is for cloud services.", "",
                 set()) == ["is no table row"]
    assert unmet("What is the purpose of the deal?", "Key Deals and Partnerships", "", set()) == \
        ["is a heading", "does not mention purpose"]
    assert unmet("Why was the deal made?", "Key Deals and Partnerships", "", set()) == ["is a heading"]
    assert unmet("Whose appearances are shown?", "Seth Fiegeman", "", set()) == []


def test_paragraph_joins_wrapped_lines_and_table_rows():
    text = "Intro line.\nA wrapped para\ngoes on here. Yes.\n\n| a | b |\n| c | d |\nAfter."
    def para(word):
        i = text.index(word)
        a, b = paragraph(text, i, i + len(word))
        return text[a:b]
    assert para("goes") == para("Yes") == "A wrapped para\ngoes on here. Yes."
    assert para("| c |") == "| a | b |\n| c | d |"
    assert para("After") == "After."
    assert para("Intro") == "Intro line."


def test_dashes_separate_words_when_normalising():
    assert normalize_answer("production—not just") == "production not just"
    assert contains_answer("the means of production—not just access", ["the means of production"])
    assert normalize_answer("Re-materialization") == "rematerialization"


def test_a_possessive_still_holds_the_name():
    assert contains_answer("while Microsoft’s initial $1 billion investment", ["Microsoft"])
    assert contains_answer("Acme's CEO", ["Acme"]) and contains_answer("Acme's CEO", ["Acme's CEO"])
    assert not contains_answer("Acmes are birds", ["Acme"])


@pytest.mark.parametrize("text, code", [
    ("except Exception:", True), ("x = f(y);", True), ("$ make install", True),
    ("import numpy as np", False),  # no code ending: could be prose in a list
    ("def main():", True), ("#include <zlib.h>", False),
    ("Exceptions are fast when none is raised.", False), ("Use the except clause:", False),
    # a manual's synopsis is a command's usage, no answer; its NAME line is prose
    ("cp [OPTION]... [-T] SOURCE DEST", True), ("tar {--extract|--get} [-f ARCHIVE] [MEMBER...]", True),
    ("wc [OPTION]... --files0-from=F", True), ("split - split a file into pieces", False),
    ("Use ls [OPTION] to list.", False), ("grep -r pattern dir", False),
    # markup is code too (a configuration manual's example: "<fontconfig>" answered where its file is)
    ("<fontconfig>", True), ("</match>", True), ('<edit name="antialias"><bool>false</bool></edit>', True),
    ("Press <Enter> to continue.", False), ("<Ctrl-X> quits the editor.", False), ("x < y and y > z", False),
])
def test_a_line_of_code_is_told_from_prose(text, code):
    from retriever.cues import is_code_line

    assert is_code_line(text) is code


def test_code_line_check_and_switching_checks_off():
    from retriever.cues import CHECKS

    assert unmet("What is Debian?", "Debian GNU/Linux is:", "", set()) == []  # a lead-in may answer
    assert unmet("How fast are exceptions?", "except Exception:", "", set()) == ["is a line of code"]
    assert unmet("How fast are exceptions?", "except Exception:", "", set(), off=("code_line",)) == []
    assert set(CHECKS) == {"answer_type", "table_row", "heading", "contents_entry", "focus", "how_many", "code_line",
                           "section_title", "question", "link_only"}
    every = tuple(CHECKS)
    assert unmet("How much did Acme pay?", "Nothing was said.", "", set(), off=every) == []
    assert unmet("How much did Acme pay?", "Nothing was said.", "", set(), off=every[1:]) == ["holds no money"]


def _scored(cosines: list[float]):
    """score_sentences over one passage whose sentences have these cosines with the question."""
    texts = [f"Sentence number {i} says something about gardens." for i in range(len(cosines))]
    sentences, start = [], 0
    for i, t in enumerate(texts):
        sentences.append(_sentence(t, start, i))
        start += len(t) + 1
    chunk = Chunk(" ".join(texts), "d.txt", 0, start - 1, 1, 1, id=0, first_sentence=0, last_sentence=len(texts) - 1)
    q = np.array([1.0, 0.0])
    vectors = {i: np.array([c, (1 - c * c) ** 0.5]) for i, c in enumerate(cosines)}
    return score_sentences("What grows in gardens?", q, [chunk], {0: sentences}, vectors, {"garden": 2.0},
                           SpanConfig(), topical=max(cosines))


def test_field_is_the_median_cosine_of_every_candidate_and_orders_nothing():
    scored = _scored([0.6, 0.2, 0.3, 0.1, 0.25])
    field = FEATURES.index("field")
    assert {round(s.features[field], 6) for s in scored} == {0.25}
    assert [s.sentence.id for s in scored[:1]] == [0]
    # the same best sentence among closer neighbours is less sure to be the answer (the shipped model)
    crowded = _scored([0.6, 0.5, 0.55, 0.45, 0.5])
    best, best_crowded = scored[0], next(s for s in crowded if s.sentence.id == 0)
    assert best.features[0] == pytest.approx(best_crowded.features[0])
    assert best_crowded.features[field] == pytest.approx(0.5)
    assert confidence(best_crowded, SpanConfig()) < confidence(best, SpanConfig())


@pytest.mark.parametrize("text, asked", [
    ("How do I make an NTP server?", True), ("3.8 How do I tell curl to follow redirects?", True),
    ('He asked: "Is it safe?"', True), ("file exists; overwrite (y or n)?", True),
    ("Yes. It is thread-safe.", False), ("Why? Because it is fast.", False), ("What it does is copy.", False),
])
def test_a_sentence_that_asks_is_told(text, asked):
    from retriever.cues import asks

    assert asks(text) is asked


def test_a_question_or_a_marked_up_heading_is_no_answer():
    from retriever.cues import is_section_title

    # a FAQ as users keep it: the question heading echoes the question better than its answer does
    q = "How do I make an NTP server?"
    assert unmet(q, "How do I make an NTP server?", "", set()) == ["asks a question"]
    assert unmet(q, "By default, chronyd does not operate as an NTP server.", "", set()) == []
    assert unmet(q, "How do I make an NTP server?", "", set(), off=("question",)) == []
    # ... nor is a statement that opens a question heading of more sentences, on one line or wrapped
    q = "The admin site is ugly! How can I change it?"
    assert unmet(q, "The admin site is ugly!", q, set()) == ["asks a question"]
    heading = ("5. The compiler complains about unmodifiable lvalues or assignments to const\n"
               "   variables.  Now what?")
    span = "The compiler complains about unmodifiable lvalues or assignments to const\n   variables."
    assert unmet("What if the compiler complains about assignments to const variables?", span, heading, set()) \
        == ["asks a question"]
    # ... its block of lines, where a line of the heading closes a sentence (the paragraph stops there)
    heading = ("20.11. In my mappings the special characters like <CR> are not recognized.\n"
               "       How can I configure Vim to recognize special characters?")
    span = "In my mappings the special characters like <CR> are not recognized."
    assert unmet("How do I make mappings recognize <CR>?", span, span, set()) == []
    assert unmet("How do I make mappings recognize <CR>?", span, span, set(), block=heading) == ["asks a question"]
    # a sentence in a long paragraph that closes with a question (prose), or in one that asks nothing, answers
    assert unmet(q, "You can change it.", "You can change it. " * 20 + "Why not?", set()) == []
    assert unmet(q, "The admin site is ugly!", "The admin site is ugly! Change it.", set()) == []
    # a heading by the document's markup, whatever its case; a sentence under it is not one
    assert is_section_title("### `PIP_CONFIG_FILE`", "Configuration > PIP_CONFIG_FILE")
    assert is_section_title("## Editable VCS installs", "VCS Support > Editable VCS installs")
    assert not is_section_title("Editable installs put the clone in src.", "VCS Support > Editable VCS installs")
    assert not is_section_title("## Editable VCS installs", None)
    # an Org headline, with its TODO keyword, priority, statistics cookie and tags (the section is its title);
    # an AsciiDoc title
    assert is_section_title("* TODO [#A] Migration of the wiki [1/3]     :infra:", "Notes > Migration of the wiki")
    assert is_section_title("** DONE Planning meeting, 12 March  :planning:", "Planning meeting, 12 March")
    assert not is_section_title("The wiki moves to a static site.", "Migration of the wiki")
    assert is_section_title("== Installing `quarry` ==", "Guide > Installing quarry")
    # a numbered heading whose number the sentence splitter cut off (Sphinx HTML, with its "¶" link)
    section = "3. Duties¶ > 3.1.3. Manage release-critical bugs¶"
    assert is_section_title("Manage release-critical bugs¶", section)
    assert is_section_title("3.1.3. Manage release-critical bugs¶", section)
    assert not is_section_title("Manage bugs", section)
    assert not is_section_title("Release-critical bugs must be fixed.", section)
    # one sentence of a title of several, wrapped (a plain-text FAQ's question heading); not a short word of it
    section = "SECTION 25 > 25.30. Is it possible to un-source a script? In otherwords, reverse all the commands."
    assert is_section_title("In otherwords, reverse\n       all the commands.", section)
    assert is_section_title("Is it possible to un-source a script?", section)
    assert not is_section_title("Reverse.", section) and not is_section_title("No, it is not possible.", section)
    span = "## Editable VCS installs"
    assert unmet("Where are editable checkouts cloned?", span, "", set(),
                 section="VCS Support > Editable VCS installs") == ["is a heading"]
    assert unmet("Where are editable checkouts cloned?", span, "", set()) == []  # no markup: title case decides
    assert unmet("Where are editable checkouts cloned?", span, "", set(), off=("section_title",),
                 section="VCS Support > Editable VCS installs") == []


def retriever_over(tmp_path, encoder, name: str, text: str):
    """A Retriever over a folder of one file ``name`` holding ``text``, indexed with ``encoder``."""
    from indexer.build import build_index
    from retriever.index import Index
    from retriever.pipeline import Retriever

    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / name).write_text(text, encoding="utf-8")
    build_index(corpus, tmp_path / "index", encoder=encoder, progress=False)
    return Retriever(Index(tmp_path / "index"), encoder)


FAQ_MD = """# Frequently asked questions

## General

### How do I make an NTP server?

By default, chronyd does not operate as an NTP server. You need to add an allow directive
to the configuration file to let clients in.

### Why does the clock drift after a suspend?

The hardware clock keeps running slowly while the machine sleeps, so the time is behind
when it wakes up again.
"""

FAQ_TXT = """Frequently asked questions

1. Usage

1.1 How do I stop the daemon from stepping the clock?

Remove the makestep directive from the configuration file; the clock is then only slewed.

1.2 Can the daemon run without network access?

Yes. It can use a reference clock or the hardware clock alone.
"""


@pytest.mark.parametrize("name, text, question, expected", [
    ("faq.md", FAQ_MD, "How do I make an NTP server?", "By default, chronyd does not operate"),
    ("faq.txt", FAQ_TXT, "How do I stop the daemon from stepping the clock?", "Remove the makestep directive"),
])
def test_a_faq_with_its_question_headings_is_answered_from_the_body(tmp_path, real_encoder, name, text,
                                                                    question, expected):
    result = retriever_over(tmp_path, real_encoder, name, text).ask(question)
    assert result.passages and question in result.passages[0].text  # the heading finds the entry
    # the answer is the body's sentence, not the heading that repeats the question (it did, before the
    # "question" check: on three Debian FAQs kept so, 5 of 165 answers were right, 102 after it)
    assert result.answer is not None and result.answer.text.startswith(expected)
    assert result.answer.start_char > text.index(question) + len(question)
    assert not result.answer.low_confidence  # the question asked there vouches for what follows it


ECHO_FAQ = """### How do I make an NTP server?

Add an allow directive to the configuration file; chronyd then answers its clients.

### What is the minimum configuration for a client?

A client needs to know which NTP servers to ask. To make an NTP server of a client takes nothing more.
"""


def test_the_answer_follows_the_question_asked_again(tmp_path, real_encoder):
    from dataclasses import replace

    r = retriever_over(tmp_path, real_encoder, "faq.md", ECHO_FAQ)
    answer = r.ask("How do I make an NTP server?").answer
    assert answer is not None and answer.text.startswith("Add an allow directive")
    # without the rule, the other entry's sentence, which says "make an NTP server", is closer
    alone = r.with_config(span=replace(r.config.span, follow_echo=False)).ask("How do I make an NTP server?").answer
    assert alone is None or not alone.text.startswith("Add an allow directive")


def one_passage(texts: list[str], best_last: bool = False):
    """The sentences of one passage holding ``texts`` (one line, a space apart) and each scored, the first best
    (``best_last``: the last), with features ``(rank, rank, ...)``."""
    sentences, start = [], 0
    for i, t in enumerate(texts):
        sentences.append(_sentence(t, start, i))
        start += len(t) + 1
    chunk = Chunk(" ".join(texts), "d.txt", 0, start - 1, 1, 1, id=0, first_sentence=0, last_sentence=len(texts) - 1)
    order = list(reversed(sentences)) if best_last else sentences
    scored = [ScoredSentence(s, chunk, 1.0 - 0.1 * i, (float(i),) * len(FEATURES)) for i, s in enumerate(order)]
    return sentences, scored


def test_echoes_and_after_echo_order():
    from retriever.answer import after_echo, echoes

    assert echoes("How do I make an NTP server?", "2.2. How do I make an NTP server?")
    assert echoes("how can I make an NTP server", "How do I make an NTP server?")
    assert not echoes("How do I make an NTP server?", "By default, chronyd is no NTP server.")  # no question
    assert not echoes("How do I make an NTP server?", "Why does the clock drift after a suspend?")
    assert not echoes("How do I make an NTP client?", "How do I make an NTP server?")  # another question
    assert echoes("How do I make a fast NTP server?", "How do I make an NTP server?")  # one of four terms more
    assert echoes("What is a lexical action?", '### <a name="question-3.12"></a>What is a lexical action?')
    sentences, scored = one_passage(["Why does the clock drift?", "It runs slowly.", "It sleeps too.",
                                     "Is it fixable?", "Yes."], best_last=True)  # "Yes." best, the echo fourth
    out = after_echo("Why does the clock drift?", scored, {0: sentences})
    assert [s.sentence.text for s in out][:2] == ["It runs slowly.", "It sleeps too."]  # to the next question
    assert out[0].asked == scored[4].features and out[2].asked is None
    assert after_echo("What is chrony?", scored, {0: sentences}) == scored


def test_an_echo_with_nothing_after_it_gives_way_to_the_next():
    from retriever.answer import after_echo

    # a FAQ's table of contents asks every question again, the next question right after it
    sentences, scored = one_passage(["Why does the clock drift?", "Is it fixable?", "Why does the clock drift?",
                                     "It runs slowly.", "Is it fixable?", "Yes."])  # the contents line best
    out = after_echo("Why does the clock drift?", scored, {0: sentences})
    assert out[0].sentence.text == "It runs slowly." and out[0].asked == scored[2].features
    # with no echo that has an answer after it, nothing moves
    assert after_echo("Why does the clock drift?", scored[:2], {0: sentences[:2]}) == scored[:2]


def test_an_echo_in_other_words_by_its_score():
    from retriever.answer import find_echo

    # FAQ entries, one a line, and a paragraph that asks in its third sentence
    lines = [["How do I make a backup of my cluster?"], ["Run the snapshot command."], ["2.1.", "Why is it slow?"],
             ["Disks are slow."], ["How do I make a backup of my cluster?"],
             ["Disks wear out.", "Nothing lasts.", "Is it hard?"], ["It is not."]]
    sentences, start = [], 0
    for n, line in enumerate(lines, 1):
        for t in line:
            sentences.append(Sentence(t, "d.txt", start, start + len(t), n, n, id=len(sentences)))
            start += len(t) + 1
    chunk = Chunk("\n".join(" ".join(x) for x in lines), "d.txt", 0, start - 1, 1, 7, id=0, first_sentence=0,
                  last_sentence=len(sentences) - 1)
    by_chunk = {0: sentences}

    def scored(cosines):
        return [ScoredSentence(s, chunk, c, (c,) * len(FEATURES)) for s, c in zip(sentences, cosines)]

    def cosines(backup=0.8, slow=0.6, hard=0.2):  # the closest sentence asks nothing; line 5 repeats line 1
        return [backup, 0.9, 0.1, slow, 0.5, backup - 0.01, 0.3, 0.3, hard, 0.2]

    q = "What is the way to back up etcd data?"  # no echo by its terms
    assert find_echo(q, scored(cosines()), by_chunk, SpanConfig(echo_min=None)) is None  # off
    on = SpanConfig(echo_min=0.7, echo_margin=0.1)
    assert find_echo(q, scored(cosines()), by_chunk, on).sentence.id == 0  # 0.8 against "Why is it slow?" at 0.6
    assert find_echo(q, scored(cosines()), by_chunk, replace(on, echo_min=0.85)) is None  # not close enough
    assert find_echo(q, scored(cosines(slow=0.75)), by_chunk, on) is None  # a rival question as close
    assert find_echo(q, scored(cosines(backup=0.1, slow=0.8)), by_chunk, on).sentence.id == 3  # after a label
    assert find_echo(q, scored(cosines(backup=0.1, hard=0.95)), by_chunk, on) is None  # inside a paragraph
    lexical = "How do I make a backup of my cluster?"
    assert find_echo(lexical, scored(cosines(backup=0.1)), by_chunk, on).sentence.id == 0


def test_echo_score_and_a_question_opens_with_a_capital():
    from retriever.answer import echo_score, opens_capital

    s = _sentence("How do I make a backup?", 0, 0)
    chunk = Chunk(s.text, "d.txt", 0, len(s.text), 1, 1, id=0, first_sentence=0, last_sentence=0)
    f = dict.fromkeys(FEATURES, 0.0) | {"dense": 0.6, "lexical": 0.2, "qa": 0.9}
    scored = ScoredSentence(s, chunk, 1.0, tuple(f[n] for n in FEATURES))
    weighted = SpanConfig(echo_w_lexical=0.25, echo_w_qa=1.0)
    assert echo_score(scored, weighted) == pytest.approx((0.6 + 0.05 + 0.9) / 2.25)
    assert echo_score(scored, SpanConfig(echo_w_lexical=0.0, echo_w_qa=0.0)) == pytest.approx(0.6)  # the cosine
    assert opens_capital("2.2. How do I make an NTP server?")
    assert opens_capital('### <a name="q3"></a>What is a lexical action?')
    assert not opens_capital("file already exists; do you wish to overwrite (y or n)?")  # a prompt in a manual


def test_without_an_answer_model_the_echo_is_by_the_cosine_alone():
    from retriever.answer import without_answer_model

    alone = without_answer_model(SpanConfig())
    assert (alone.echo_w_lexical, alone.echo_w_qa, alone.echo_min) == (0.0, 0.0, SpanConfig().echo_min_cosine)
    assert alone.echo_margin == SpanConfig().echo_margin
    assert without_answer_model(SpanConfig(echo_min=None)).echo_min is None  # off stays off


def test_field_is_the_last_feature():
    # score_sentences computes the other features per sentence and appends field (weights[:-1], weights[-1])
    assert FEATURES[-1] == "field"
    assert len(SpanConfig().weights()) == len(SpanConfig().answerability()) == len(FEATURES)


def test_a_line_that_is_only_a_link_is_no_answer():
    from retriever.cues import is_link_only

    for text in ("* [TSC meetings](#tsc-meetings)", "* [A supported version of Python][Python versions]",
                 "[Building with Ninja](doc/ninja.md).", "- ![logo](logo.png)"):
        assert is_link_only(text), text
        assert unmet("How does the TSC meet?", text, "", set()) == ["is only a link"]
        assert unmet("How does the TSC meet?", text, "", set(), off=("link_only",)) == []
    for text in ("See [the guide](guide.md) for more.", "https://github.com/systemd/systemd/issues",
                 "The TSC meets in a video conference call.", "[1] is cited twice"):
        assert not is_link_only(text), text


@pytest.mark.parametrize("text, lead_in, block", [
    # a fenced code block after a blank line, to its closing fence
    ("To install it:\n\n```sh\nmake install\n```\n\nThen run it.", "To install it:", "```sh\nmake install\n```"),
    # a label and its indented value (a plain-text README)
    ("BUG REPORTS:\n        https://example.org/issues\n\nAUTHOR:\n        Jane Roe\n",
     "BUG REPORTS:", "        https://example.org/issues"),
    # a man page's list: indented under the lead-in, across blank lines, up to the next section
    ("       xargs exits with the following status:\n\n              0      if it succeeds\n\n"
     "              123    if any invocation failed\n\nSEE ALSO\n       find(1)\n",
     "       xargs exits with the following status:",
     "              0      if it succeeds\n\n              123    if any invocation failed"),
    # a Markdown list, to its end
    ('pip has 3 "levels" of configuration files:\n\n- `global`: system-wide.\n- `user`: per-user.\n\n'
     "### Location\n", 'pip has 3 "levels" of configuration files:', "- `global`: system-wide.\n- `user`: per-user."),
    # the rest of a paragraph the colon does not end
    ("grep knows three syntaxes:\nbasic, extended and perl.\n\nNext.", "grep knows three syntaxes:",
     "basic, extended and perl."),
])
def test_a_lead_in_runs_on_over_what_it_introduces(text, lead_in, block):
    from retriever.answer import introduced_end

    start = text.index(lead_in.strip())
    end = introduced_end(text, start, text.index(lead_in) + len(lead_in), 300)
    assert text[start:end].endswith(block)
    assert text[start:end] == text[start:end].rstrip()


@pytest.mark.parametrize("text, lead_in", [
    ("Note: the file is kept.\nMore text.", "Note:"),  # the colon does not end its line
    ("It supports these:\n\n## Next section\n\nText.", "It supports these:"),  # a heading follows
    ("It ends here.\n    indented text\n", "It ends here."),  # no colon: leads into nothing
    ("Options:", "Options:"),  # nothing follows
    ("These are the steps:\n\n\n\n\nFar below.", "These are the steps:"),  # nothing close below
])
def test_what_leads_into_nothing_stays_as_it_is(text, lead_in):
    from retriever.answer import introduced_end

    end = text.index(lead_in) + len(lead_in)
    assert introduced_end(text, text.index(lead_in), end, 300) == end


def test_a_lead_in_runs_on_by_whole_lines_within_the_limit():
    from retriever.answer import introduced_end

    text = "Steps:\n- " + "a" * 40 + "\n- " + "b" * 40 + "\n- " + "c" * 40 + "\n"
    end = introduced_end(text, 0, 6, 100)
    assert text[:end] == "Steps:\n- " + "a" * 40 + "\n- " + "b" * 40
    assert introduced_end(text, 0, 6, 20) == 6  # not even the first line fits


LEAD_IN_MD = """# Building

To install this version into a system directory:

```bash
[sudo] make install
```

The build needs at least 8GB of RAM and a C++ compiler.
"""


def test_the_answer_to_a_lead_in_holds_what_it_introduces(tmp_path, real_encoder):
    r = retriever_over(tmp_path, real_encoder, "BUILDING.md", LEAD_IN_MD)
    question = "How do I install it into a system directory?"
    result = r.ask(question)
    a = result.answer
    assert a is not None and a.text.startswith("To install this version") and a.text.endswith("```")
    assert "[sudo] make install" in a.text
    assert LEAD_IN_MD[a.start_char:a.end_char] == a.text
    assert (a.start_line, a.end_line) == (3, 7)
    host = result.passages[a.passage]
    assert host.start_char <= a.start_char and a.end_char <= host.end_char
    alone = r.with_config(span=replace(r.config.span, lead_in_block=False)).ask(question).answer
    assert alone is not None and alone.text == "To install this version into a system directory:"


def test_path_words_name_a_document():
    assert path_words("licences/GPL-3") == "licences GPL 3"
    assert path_words("Apache-2.0") == "Apache 2.0"  # a number is no extension
    assert path_words("topics/vcs-support.md") == "topics vcs support"
    assert path_words("userGuide.txt") == "user Guide"
    assert path_words("000_7964c127cd96d91a.txt") == ""  # a serial number and a hash name nothing
    # a word of letters and figures is a name, whole; a compressed file is named by what it holds
    assert path_words("e2fsprogs-README") == "e2fsprogs README"
    assert path_words("ipv6-howto.txt") == "ipv6 howto" and path_words("log4j.txt") == "log4j"
    assert path_words("zstd/README.md.gz") == "zstd README" and path_words("FAQ.gz") == "FAQ"


def test_a_name_glued_to_a_word_is_mentioned_by_the_name():
    q = "What must I keep when I redistribute MIT-licensed code?"
    assert entity_coverage(q, "Licensed under the MIT terms.") == 1.0
    assert entity_coverage(q, "Licensed under the ISC terms.") == 0.0


def test_a_question_may_name_a_document_by_its_file_name(tmp_path, real_encoder):
    from indexer.build import build_index
    from retriever.index import Index
    from retriever.pipeline import Retriever, scored_sentences

    corpus = tmp_path / "licences"
    corpus.mkdir()
    (corpus / "MIT").write_text("Permission is granted to deal in the Software without restriction.\n"
                                "The above copyright notice shall be included in all copies.\n", encoding="utf-8")
    (corpus / "ISC").write_text("Permission to use and copy this software for any purpose is granted.\n"
                                "The author disclaims all warranties with regard to this software.\n", encoding="utf-8")
    build_index(corpus, tmp_path / "index", encoder=real_encoder, progress=False)
    r = Retriever(Index(tmp_path / "index"), real_encoder)
    # "mit" is in no chunk's text, but in a file name: a term of the folder, not one it has never seen
    assert r.index.idf(["mit"])["mit"] < r.index.unseen_idf
    assert r.index.idf(["gpl"])["gpl"] == pytest.approx(r.index.unseen_idf)
    scored = scored_sentences(r, "Under the MIT licence, what must copies include?")
    lexical = FEATURES.index("lexical")
    best = max(scored, key=lambda s: s.features[lexical])
    assert best.sentence.source == "MIT" and "copyright notice" in best.sentence.text
    answer = r.ask("Under the MIT licence, what must copies include?").answer
    assert answer is not None and answer.source == "MIT"


def test_a_sentence_is_read_with_its_file_name_and_section():
    a = Sentence("Pass the option to switch it off.", "guide/caching.md", 0, 33, 1, 1, section="Caching > Disabling",
                 id=0)
    b = Sentence("Pass the option to switch it off.", "guide/other.md", 0, 33, 1, 1, id=1)
    q, vec = "How do I disable caching?", np.array([1.0, 0.0])
    lexical = FEATURES.index("lexical")

    def scored(s, names=None):
        chunk = Chunk(s.text, s.source, 0, 33, 1, 1, id=s.id, first_sentence=s.id, last_sentence=s.id)
        return score_sentences(q, vec, [chunk], {s.id: [s]}, {s.id: vec}, {"disabl": 2.0, "cach": 2.0},
                               SpanConfig(), names=names)[0].features[lexical]

    assert scored(b) == 0.0
    assert scored(a) == 1.0  # "Caching > Disabling": both terms
    assert scored(b, {"guide/other.md": "guide caching"}) == 0.5  # a file name counts as its words


def test_a_plain_text_documents_title_line_is_a_heading(tmp_path, real_encoder):
    from retriever.pipeline import problems, scored_sentences

    text = ("UNIQ(1)                 User Commands                 UNIQ(1)\n\n"
            "       -c, --count\n              prefix lines by the number of occurrences\n")
    r = retriever_over(tmp_path, real_encoder, "uniq.txt", text)
    q = "How can I see how many times each line is repeated with uniq?"
    every = scored_sentences(r.with_config(span=replace(r.config.span, verify=False)), q)
    title = next(s for s in every if s.sentence.text.startswith("UNIQ(1)"))
    def problems_without(check):
        return problems(r.with_config(span=replace(r.config.span, checks_off=(check,))), q, title,
                        r.index.idf(["uniq"]))

    # a heading twice: the document's title line (section_title) and a manual page's running header (heading)
    assert problems_without("heading") == problems_without("section_title") == ["is a heading"]
    assert all(not s.sentence.text.startswith("UNIQ(1)") for s in scored_sentences(r, q))


def test_an_answer_leaves_out_a_fence_it_only_closes():
    from retriever.pipeline import unclosed_fence_cut

    text = "Intro.\n\n```{warning}\nThe use is discouraged.\nThe former two lack TLS.\n```\n\nNext."
    start, end = text.index("The use"), text.index("```\n\nNext") + 3
    cut, line = unclosed_fence_cut(text, start, end, 6)
    assert text[start:cut] == "The use is discouraged.\nThe former two lack TLS." and line == 5
    # a fence the answer opens itself stays closed ("To install it:" with the code block it introduces)
    lead = "To install it:\n\n```sh\nmake install\n```\n"
    assert unclosed_fence_cut(lead, 0, len(lead) - 1, 5) == (len(lead) - 1, 5)
    assert unclosed_fence_cut("One line.", 0, 9, 1) == (9, 1)


def test_clause_window_keeps_the_clauses_that_hold_the_question():
    from retriever.answer import clause_window

    t = ("If a Contributor includes the Program in a commercial product offering, such Contributor hereby agrees "
         "to defend every other Contributor against any losses, damages and costs arising from claims brought by "
         "a third party; this applies to any Contributor that distributes the Program; the rest of this sentence "
         "only says who pays the lawyers, when, and in which court, and it goes on for a while longer.")
    idf = {"defend": 3.0, "contributor": 1.0, "commerci": 2.0, "court": 0.5}
    a, b = clause_window(t, ["defend", "contributor", "commerci"], idf, 300)
    assert a == 0 and b <= 301 and "hereby agrees to defend" in t[a:b]
    assert t[a:b].endswith(";")  # a run ending at a semicolon keeps it
    assert clause_window(t, ["court"], idf, 120)[1] == len(t)  # the clause that holds it, to the end
    assert clause_window("Short enough.", ["x"], {}, 300) == (0, 13)
    no_clauses = "word " * 80
    assert clause_window(no_clauses, ["word"], {"word": 1.0}, 300) == (0, len(no_clauses))


def test_a_long_answer_sentence_is_shown_cut_to_the_clauses_that_answer(tmp_path, real_encoder):
    sentence = ("Subject to the terms of this Agreement, each Contributor hereby grants Recipient a non-exclusive, "
                "worldwide, royalty-free copyright license to reproduce, prepare derivative works of, publicly "
                "display, publicly perform, Distribute and sublicense the Contribution of such Contributor, if any, "
                "and such derivative works, provided that the license granted here does not extend to hardware.")
    text = f"EXAMPLE PUBLIC LICENSE\n\n2. GRANT OF RIGHTS\n\n{sentence}\n\n3. REQUIREMENTS\n\nKeep this notice.\n"
    r = retriever_over(tmp_path, real_encoder, "EPL", text)
    q = "Does the licence let a Recipient sublicense derivative works of the Contribution?"
    answer = r.ask(q).answer
    assert answer is not None and len(sentence) > 300
    assert len(answer.text) <= 300 and "sublicense the Contribution" in answer.text
    assert text[answer.start_char:answer.end_char] == answer.text  # still a verbatim slice, its lines too
    assert answer.start_line == answer.end_line == 5
    plain = r.with_config(span=replace(r.config.span, clause_cut=False)).ask(q).answer
    assert plain is not None and plain.text == sentence


def test_a_cut_answer_of_a_wrapped_sentence_cites_its_own_lines(tmp_path, real_encoder):
    import textwrap

    sentence = ("If Recipient institutes patent litigation against any entity, including a cross-claim or "
                "counterclaim in a lawsuit, alleging that the Program itself infringes such Recipient's patents, "
                "then such Recipient's rights granted under Section 2(b) shall terminate as of the date such "
                "litigation is filed, and the Recipient shall cease all use of the Program at once.")
    wrapped = textwrap.fill(sentence, 70)
    text = f"EXAMPLE LICENSE\n\n7. TERMINATION\n\n{wrapped}\n"
    r = retriever_over(tmp_path, real_encoder, "EXL", text)
    answer = r.ask("When do a Recipient's rights under Section 2(b) terminate?").answer
    assert answer is not None and len(answer.text) <= 300 and "shall terminate" in answer.text
    assert text[answer.start_char:answer.end_char] == answer.text
    first = text.count("\n", 0, answer.start_char) + 1
    assert (answer.start_line, answer.end_line) == (first, first + answer.text.count("\n"))
    assert answer.start_line > 5  # cut: it does not open on the sentence's first line


def test_an_amount_in_a_currency_named_in_words_or_by_its_code_is_money():
    assert type_match("money", "The budget was approved at 40,000 euros.") == 1.0
    assert type_match("money", "A licence costs USD 500 a year.") == 1.0
    assert type_match("money", "It sold for 20 Swiss francs.") == 1.0
    assert type_match("money", "The euro replaced the franc.") == 0.0
