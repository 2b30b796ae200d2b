"""A realistic 60-turn conversation for the running-summary tests: a user
planning a family wedding weekend (and a Python seating-chart script) with
an assistant. Most of it is filler: small talk, generic advice, clarifying
questions and answers, with capitalised words and numbers of its own
(`Step 2`, `Python 3`, `Google Sheets`). The first 40 turns, the ones a
20-turn window evicts, hold the 10 planted `FACTS`, each said once, in
passing, inside a longer turn.

`TURNS` is a list of (role, content); `FACTS` maps each fact to the
distinctive token that must survive (matched as a whole word, ignoring
case, by `facts_found`).
"""

from __future__ import annotations

import re

TURNS: list[tuple[str, str]] = [
    ("user", "Hi there! Hope your day is going well."),
    (
        "assistant",
        "Hello! It's going great, thanks for asking. What can I help you with today?",
    ),
    (
        "user",
        "I'm helping organise my brother's wedding weekend and honestly it's a lot. "
        "My sister Ingrid is coming over from Hamburg for it, so there's the family "
        "side to juggle as well.",
    ),
    (
        "assistant",
        "That sounds like a big but lovely project. Weddings involve a lot of moving parts, "
        "so it helps to break things down into smaller pieces. Would you like to start with "
        "a timeline, a budget, or the guest logistics?",
    ),
    ("user", "Let's start with the timeline I guess. What usually comes first?"),
    (
        "assistant",
        "A common approach is to work backwards from the day itself. Step 1 is to lock in "
        "the venue and date, since everything else depends on them. Step 2 is the big "
        "vendors: catering, photography and music. Step 3 covers invitations, which usually "
        "go out 6 to 8 weeks before. After that it's mostly details like seating and "
        "decorations.",
    ),
    (
        "user",
        "Okay, the date is already fixed, the ceremony is on 14 June, a Saturday. "
        "The venue is booked too, it's a converted barn at 27 Kestrel Lane, just outside "
        "Bristol.",
    ),
    (
        "assistant",
        "Great, having the venue and date settled takes a lot of pressure off. A barn "
        "venue can be wonderful, though it's worth checking what it provides: tables, "
        "chairs, lighting, heating if the evening gets cold. Do you know if they have "
        "an in-house caterer or if you need to bring your own?",
    ),
    (
        "user",
        "We bring our own. We got a quote from a local company and we budgeted $3,850 "
        "for the catering, which felt like a lot to me but apparently it's normal.",
    ),
    (
        "assistant",
        "Catering is usually one of the largest line items, so that's not unusual at all. "
        "Make sure the quote includes staff, tableware and cleanup, since those are often "
        "extra. It's also good to ask about their cancellation policy and when the final "
        "numbers are due.",
    ),
    ("user", "Good point. I'll ask them tomorrow."),
    (
        "assistant",
        "Sounds good. In the meantime, is there anything else on your list I can help with?",
    ),
    (
        "user",
        "Yes actually. I want to build a little seating chart tool in Python 3 because "
        "the spreadsheet we have is a mess. Is that overkill?",
    ),
    (
        "assistant",
        "Not at all, it can be a fun small project. You could keep the guest list in a "
        "CSV file exported from Google Sheets and write a short script that assigns people "
        "to tables based on a few rules. The csv module in the standard library is enough "
        "to read the file, and a dictionary of table names to lists of guests works well "
        "as the main data structure.",
    ),
    (
        "user",
        "Right. Rules like keeping couples together and not putting certain cousins at "
        "the same table, that kind of thing. Also the final head count is 86, so it's not "
        "huge.",
    ),
    (
        "assistant",
        "That's a very manageable size. You can express the rules as constraints: pairs "
        "that must sit together and pairs that must be apart. A simple approach is to "
        "place the must-sit-together groups first and then fill the remaining seats, "
        "checking the apart-constraints as you go. If it gets stuck, shuffle and retry a "
        "few times.",
    ),
    ("user", "Makes sense. How many people per table is normal?"),
    (
        "assistant",
        "Round tables usually seat 8 to 10 people comfortably. Long banquet tables, which "
        "suit a barn nicely, can be more flexible. I'd check with the venue what furniture "
        "they have before deciding.",
    ),
    (
        "user",
        "They have long tables I think. Anyway, another thing: Ingrid is flying in on "
        "LH 2417 and it lands at 6:35 pm on the Thursday, so someone needs to pick her up "
        "from the airport.",
    ),
    (
        "assistant",
        "It's a good idea to sort out airport pickups early, especially for family "
        "arriving before the main day. You could make a small shared schedule of "
        "arrivals so that drivers know who they're collecting and when. Would you like a "
        "template for that?",
    ),
    ("user", "Maybe later. Thanks though!"),
    ("assistant", "No problem at all. Just let me know whenever you're ready."),
    (
        "user",
        "So the script. I've started it but I keep getting a KeyError on line 12 when "
        "I read the CSV. Any idea?",
    ),
    (
        "assistant",
        "A KeyError when reading a CSV with csv.DictReader usually means the column name "
        "in your code doesn't exactly match the header in the file. Headers exported from "
        "Google Sheets sometimes have trailing spaces or a byte order mark at the start. "
        "Try printing reader.fieldnames to see exactly what the keys are.",
    ),
    (
        "user",
        "Oh wow, there was a space after Name in the header. Fixed it. By the way, "
        "Ingrid's little boy Matti can't have anything with sesame in it, he reacts "
        "really badly, so the caterer needs to know.",
    ),
    (
        "assistant",
        "Glad the fix worked. And yes, dietary requirements are important to pass on "
        "early. Most caterers ask for a list of restrictions a couple of weeks before the "
        "event, and it helps to give them names and table numbers so the right plates go "
        "to the right people.",
    ),
    (
        "user",
        "Will do. What about the projector for the slideshow? My brother wants to show "
        "old photos during dinner.",
    ),
    (
        "assistant",
        "A slideshow is a lovely touch. For a barn you'll want a reasonably bright "
        "projector, since there may be some daylight in the evening in June. Also check "
        "the cable: most laptops need HDMI these days, and you may need an adapter. Do you "
        "already have a projector or are you renting one?",
    ),
    (
        "user",
        "Buying one seemed silly for a single evening. We're renting one from a shop in "
        "town, the model is an EPX-9120, and they said it comes with its own screen.",
    ),
    (
        "assistant",
        "That should make things simpler. When you pick it up, it's worth doing a quick "
        "test with the actual laptop and the slideshow file, so there are no surprises on "
        "the night. Bring a spare extension cord as well.",
    ),
    ("user", "Good call. Is it normal to feel this stressed?"),
    (
        "assistant",
        "Completely normal. Organising an event for people you care about comes with a "
        "lot of pressure. It can help to keep a single checklist, tick things off as you "
        "go, and delegate where you can. Remember that small hiccups on the day are "
        "rarely noticed by guests.",
    ),
    (
        "user",
        "Thanks, that helps. Oh, and the hotel block for the out-of-town guests is at the "
        "Harbour Inn, the booking reference is QZ7K4M if anyone asks.",
    ),
    (
        "assistant",
        "Got it. It's handy to share that with guests in the invitation or on a small "
        "wedding website, along with the dates the block is held and the cutoff for "
        "booking. Would you like help drafting the travel section of the invitation?",
    ),
    ("user", "Not now, maybe next week."),
    ("assistant", "Sure, whenever suits you."),
    (
        "user",
        "One more thing for today, then I'll stop bugging you. The day itself is "
        "coordinated by a planner the venue recommended, Tobias Wren, and he wants "
        "the final running order by Monday.",
    ),
    (
        "assistant",
        "Having a day-of coordinator is a great help. A running order usually lists each "
        "part of the day with a start time and who is responsible: arrivals, ceremony, "
        "drinks, photos, dinner, speeches and the first dance. Would you like me to "
        "sketch a draft you can adapt?",
    ),
    ("user", "Yes please, a rough one."),
    (
        "assistant",
        "Here's a rough outline. 2:00 pm guests arrive, 2:30 pm ceremony, 3:00 pm drinks "
        "and photos, 5:00 pm dinner, 7:00 pm speeches, 8:00 pm first dance and music. "
        "Adjust the times to match the venue's rules and sunset.",
    ),
    ("user", "That's pretty much what I had in mind. Cool."),
    (
        "assistant",
        "Great minds think alike. Once it's settled, share it with the coordinator and "
        "the main vendors so everyone works from the same version.",
    ),
    (
        "user",
        "Back to the script. Should I use a class for the tables or just dictionaries?",
    ),
    (
        "assistant",
        "For a small script, dictionaries are perfectly fine and easier to print and "
        "debug. If the logic grows, a small dataclass for a table with a capacity and a "
        "list of guests keeps things tidy. In Python 3.7 and later, dataclasses are in "
        "the standard library.",
    ),
    ("user", "Dataclasses it is. How do I sort guests by last name?"),
    (
        "assistant",
        "If each guest is a string like 'First Last', you can sort with "
        "sorted(guests, key=lambda name: name.split()[-1]). If you store first and last "
        "names separately, sort by a tuple of last name then first name.",
    ),
    ("user", "Perfect, that worked first time."),
    (
        "assistant",
        "Nice! Small wins like that make a project feel much more manageable.",
    ),
    (
        "user",
        "What's a nice way to print the final chart? My dad wants a paper copy on each table.",
    ),
    (
        "assistant",
        "You could write the chart to a simple HTML file with one section per table and "
        "print it from the browser, which gives you decent formatting without extra "
        "libraries. Another option is to write it back to a CSV and open it in Excel or "
        "Google Sheets to print.",
    ),
    ("user", "HTML sounds fun. I'll try that this weekend."),
    (
        "assistant",
        "Sounds like a plan. Keep the page simple: a heading per table and a list of "
        "names underneath works well when printed on A4.",
    ),
    ("user", "Do you think we need a backup plan if it rains?"),
    (
        "assistant",
        "It's always wise to have one for any outdoor part of the day. Since the main "
        "venue is a barn, the ceremony and drinks could move inside if needed. A few "
        "large umbrellas near the entrance are a nice touch too.",
    ),
    ("user", "Good, I'll mention it to the venue."),
    (
        "assistant",
        "Great. Is there anything else on the list for this week?",
    ),
    (
        "user",
        "I think that's everything for now. I might come back about the invitation "
        "wording on Tuesday.",
    ),
    (
        "assistant",
        "Of course. Good luck with everything this week, and feel free to come back any "
        "time with questions about the script or the plans.",
    ),
    ("user", "Thanks so much, talk soon!"),
    ("assistant", "You're very welcome. Talk soon, and enjoy the wedding!"),
]

# Each planted fact and the distinctive token that must remain of it.
FACTS: dict[str, str] = {
    "the sister's name": "sister Ingrid",
    "the ceremony's date": "14 June",
    "the venue's address": "Kestrel Lane",
    "the catering budget": "3,850",
    "the head count": "86",
    "the flight number": "LH 2417",
    "the nephew's allergy": "sesame",
    "the projector's model": "EPX-9120",
    "the hotel booking reference": "QZ7K4M",
    "the planner's name": "Tobias Wren",
}

# A question a user would ask about each fact, in words of their own.
QUESTIONS: dict[str, str] = {
    "the sister's name": "What's my sister's name?",
    "the ceremony's date": "What date is the ceremony?",
    "the venue's address": "What's the address of the venue?",
    "the catering budget": "How much did we budget for catering?",
    "the head count": "What's the final head count?",
    "the flight number": "What's Ingrid's flight number?",
    "the nephew's allergy": "What is my nephew allergic to?",
    "the projector's model": "Which projector model are we renting?",
    "the hotel booking reference": "What's the hotel booking reference?",
    "the planner's name": "What's the name of the wedding planner?",
}


def facts_found(text: str, facts: dict[str, str] = FACTS) -> list[str]:
    """The facts (by default this conversation's) whose token `text` holds,
    as a whole word, ignoring case."""
    return [
        fact
        for fact, token in facts.items()
        if re.search(rf"(?<!\w){re.escape(token)}(?!\w)", text, re.IGNORECASE)
    ]
