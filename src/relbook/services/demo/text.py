"""Subjects and bodies for demo interactions: e-mails of 1–2 KB, meeting and call notes.

Bodies are assembled from topic paragraphs filled with the thread's names, products,
amounts and reference numbers, so a 1M-interaction book has a realistic spread of
common words and rare tokens (order numbers, names) for the search index.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


# Every e-mail body is this long (characters): real business mail without attachments.
EMAIL_CHARS = (800, 2200)


@dataclass(frozen=True)
class Topic:
    name: str
    subjects: tuple[str, ...]
    paragraphs: tuple[str, ...]
    kind: str = "email"  # the interaction kind a thread of this topic starts as


TOPICS: tuple[Topic, ...] = (
    Topic(
        "intro",
        (
            "Introduction: {product} for {company}",
            "Following up from {conference}",
            "{company} and Kestrel Data — a short intro",
            "Nice to meet you at {conference}",
        ),
        (
            "Thank you for taking the time to talk at {conference} last week. As promised, "
            "here is a short summary of what we discussed about {trait} and how {product} "
            "could help your team in {dept}.",
            "Many of our customers in {industry} came to us because their {dept} team spent "
            "the first week of every month reconciling spreadsheets. With {product} that "
            "work is down to a few hours, and the numbers are the same in every report.",
            "I attached two short case studies from companies of a similar size to {company}. "
            "The second one is particularly relevant, since they also run several entities "
            "across {country} and needed {trait} to work across all of them.",
            "If it helps, I can set up a 30-minute call with {colleague}, who led several of "
            "these projects, to go through your current setup and see where the quick wins "
            "are. Would {weekday} or the week after suit you?",
            "No pressure at all, of course — if the timing is not right this quarter, just "
            "let me know and I will get back to you closer to your planning cycle.",
        ),
    ),
    Topic(
        "demo",
        (
            "Demo of {product} — next steps",
            "Recording and slides from today's demo",
            "Your questions from the {product} demo",
            "Follow-up: {product} walkthrough on {weekday}",
        ),
        (
            "Thanks again to you and the team for joining the demo on {weekday}. I have "
            "attached the slides and a link to the recording, which stays available for the "
            "next 30 days.",
            "You asked how {trait} behaves when two people edit the same record at the same "
            "time. The short answer: the later change is kept, the earlier one is shown in "
            "the history, and nothing is lost. {colleague} can show this live if useful.",
            "On the integration question: {product} connects to your existing systems "
            "through our standard connectors; for the legacy ERP we would use the file "
            "interface first and move to the API once your IT team has upgraded.",
            "As a next step I would suggest a two-week trial with real data from one of your "
            "entities. We would need a contact in {dept} and read access to last quarter's "
            "figures; setup typically takes half a day.",
            "Let me know who else should be involved in the evaluation — from experience, "
            "bringing finance and IT in early saves a lot of back-and-forth later.",
        ),
    ),
    Topic(
        "pricing",
        (
            "Pricing for {seats} seats",
            "Question about {product} licences",
            "Budget figures for {year}",
            "Price list {product} {year}",
        ),
        (
            "As requested, here is the pricing for {product}. For {seats} named users on an "
            "annual contract the list price is {amount} per year, including standard "
            "support and all updates.",
            "If you commit to a three-year term we can offer a discount of {discount}% on "
            "the licence fees. Implementation services are billed separately and are "
            "estimated at eight to twelve days for a rollout of this size.",
            "We had a look at the figures you shared: the internal budget of {amount} is "
            "realistic for phase one if we start with {product} only and add the other "
            "modules in the second half of the year.",
            "I understand {competitor} came in lower on the licence price. Please keep in "
            "mind that their quote does not include the connectors or the audit module, "
            "which you would need for your compliance requirements.",
            "Could you confirm the number of users per department? The split between full "
            "and read-only users changes the total quite a bit.",
        ),
    ),
    Topic(
        "offer",
        (
            "Offer {offer_no}: {product} for {company}",
            "Updated offer {offer_no}",
            "Your quote {offer_no} — {product}",
        ),
        (
            "Please find attached our offer {offer_no} for {product}. It covers {seats} "
            "users, implementation and training, and is valid until the end of {month}.",
            "Summary of the offer:\n- {product}, {seats} users, annual licence: {amount}\n"
            "- Implementation (fixed price): {amount2}\n- Premium support: included in year "
            "one",
            "Payment terms are 30 days net; the licence period starts on the go-live date, "
            "not on signature, so you do not pay for the implementation weeks.",
            "If anything in the offer does not match your procurement template, send me "
            "your form and we will fill it in — {colleague} in our legal team has done this "
            "with most of the large groups in {country}.",
        ),
        kind="offer",
    ),
    Topic(
        "negotiation",
        (
            "Re: contract terms",
            "Discount request for {company}",
            "Final terms before signature",
            "Purchase order {po}",
        ),
        (
            "I discussed your request with my director. We can move to {discount}% on the "
            "licence if the contract is signed this quarter and the term is three years; a "
            "one-year term stays at list price.",
            "Regarding the liability cap: our standard is twelve months of fees. For "
            "{company} we could accept the cap in your template if the data-processing "
            "annex stays as we drafted it.",
            "Procurement asked us to register as a supplier. We sent the forms on {weekday}; "
            "could you check whether anything else is missing so the purchase order {po} "
            "can go out?",
            "We are close. The open points are the payment schedule and the start date; "
            "everything else is agreed. Shall we take ten minutes on {weekday} to close them?",
        ),
    ),
    Topic(
        "onboarding",
        (
            "Welcome to Kestrel Data — your onboarding plan",
            "Kick-off for the {product} rollout",
            "Training dates for your team",
            "Go-live checklist",
        ),
        (
            "Welcome on board! {colleague} will be your implementation lead. The attached "
            "plan has the milestones for the next six weeks, starting with the kick-off on "
            "{weekday}.",
            "For the first workshop we need the chart of accounts, the list of entities and "
            "a sample of last month's transactions. A CSV export is perfectly fine.",
            "The training sessions for key users are planned for the second and third week; "
            "each takes about two hours and we record them for people who cannot attend.",
            "Please nominate one person in {dept} who can approve the configuration "
            "decisions — it keeps the project moving when questions come up.",
        ),
    ),
    Topic(
        "support",
        (
            "Ticket {ticket}: problem with {trait}",
            "Issue after the last update",
            "Re: ticket {ticket}",
            "Urgent: {product} not syncing",
        ),
        (
            "Since {weekday} morning several users see an error when they open {trait}. The "
            "message says the session expired, even right after logging in. Can you have a "
            "look? Our ticket number is {ticket}.",
            "Thanks for the quick reply. The workaround works for now, but we need a proper "
            "fix before month-end close — the finance team depends on it.",
            "Our support team reproduced the problem: it happens when single sign-on and "
            "the old login are both active. A fix is in the next release; until then the "
            "workaround in the ticket keeps everything running.",
            "I escalated ticket {ticket} to our engineering team and will personally keep "
            "you posted. You should hear from us again by {weekday} at the latest.",
        ),
    ),
    Topic(
        "review",
        (
            "Quarterly business review Q{quarter}",
            "Agenda for our Q{quarter} review",
            "Usage report {month}",
        ),
        (
            "Ahead of our quarterly review, here are the usage figures: {users} active users "
            "last month, up from the quarter before, and the month-end close now takes "
            "{days} days instead of seven.",
            "Proposed agenda: results since go-live, open support tickets, the roadmap for "
            "{product}, and your plans for next year — in particular the new entities in "
            "{country}.",
            "One thing I would like to discuss is {trait}: several of your users asked for "
            "it, and it is included in the next release, so we could plan a short training.",
            "Please let me know if anyone else from {company} should join; last time the "
            "discussion with your controlling team was very useful.",
        ),
    ),
    Topic(
        "renewal",
        (
            "Your renewal {year}",
            "Contract renewal for {company}",
            "Renewal offer {offer_no}",
        ),
        (
            "Your subscription for {product} renews at the end of {month}. Based on the "
            "current {seats} users the renewal amount is {amount}; we have kept last year's "
            "prices for existing customers.",
            "If you plan to add users in {country}, now is a good moment: adding them at "
            "renewal keeps one contract date for everything.",
            "We know budgets are tight this year. If the full renewal is difficult, let us "
            "talk about the options before the date rather than after it.",
            "Could you confirm the billing address and the purchase order number for the "
            "renewal invoice? Last year the invoice went to the old address in {city}.",
        ),
    ),
    Topic(
        "scheduling",
        (
            "Meeting on {weekday}?",
            "Rescheduling our call",
            "Time for a catch-up",
            "Lunch in {city} next week",
        ),
        (
            "Would you have 30 minutes on {weekday} or Thursday? I will be in {city} that "
            "week and could also come by the office.",
            "Something came up on our side — could we move our call to {weekday} at the same "
            "time? Sorry for the short notice.",
            "It has been a while since we last spoke, and I would love to hear how the "
            "project is going. Do you have time for a coffee when I am in {city}?",
            "I have sent an invitation for {weekday}; feel free to forward it to anyone on "
            "your team who should join.",
        ),
    ),
    Topic(
        "invoice",
        (
            "Invoice {invoice}",
            "Question about invoice {invoice}",
            "Payment reminder {invoice}",
        ),
        (
            "Attached is invoice {invoice} for the period up to the end of {month}, total "
            "{amount}. Payment terms as agreed: 30 days net.",
            "Our accounts team noticed that invoice {invoice} is still open. Could you check "
            "whether it reached the right person? It references purchase order {po}.",
            "The invoice should reference our cost centre, otherwise it is rejected "
            "automatically. Could you send a corrected copy with cost centre {cost_centre}?",
        ),
    ),
    Topic(
        "checkin",
        (
            "Checking in",
            "How is {product} working for you?",
            "News from Kestrel Data",
            "Invitation: customer day in {city}",
        ),
        (
            "I hope all is well at {company}. I wanted to check in and hear how things are "
            "going with {product} since we last spoke.",
            "We just released a new version with better {trait}; several customers in "
            "{industry} asked for exactly that. Happy to show you in fifteen minutes.",
            "We are hosting a customer day in {city} in {month}: short talks from customers, "
            "a look at the roadmap, and plenty of time to talk. It would be great to see "
            "you there.",
            "No agenda from my side — just let me know if there is anything we can do "
            "better, or if your priorities have changed.",
        ),
    ),
)
TOPIC_BY_NAME: dict[str, Topic] = {topic.name: topic for topic in TOPICS}

# Paragraphs any business e-mail may carry; they fill a message up to its size.
GENERAL_PARAGRAPHS = (
    "On the timeline: {weekday} works for the first session, and we could plan the second "
    "one for the week after. {colleague} has already blocked time in the calendar.",
    "For completeness, I copied the notes from our last call below, so everyone on the "
    "thread has the same picture of where we are and what is still open.",
    "Regarding data protection: all data stays in EU data centres, the list of "
    "sub-processors is public, and the data-processing agreement follows the standard "
    "contractual clauses.",
    "Internally we need to present this to the steering committee in {month}; anything you "
    "can share before then about references in {industry} would help a lot.",
    "Our finance team asked whether the prices are fixed for the full term or indexed "
    "every year. Could you clarify that in the next version of the document?",
    "As a reminder, the documents from the last meeting are in the shared folder. Let me "
    "know if the link has expired and I will send a new one.",
    "I also spoke with our IT colleagues about the rollout in {country}. They prefer to "
    "start after the holidays, when the team is back at full strength.",
    "If it is easier, we can go through the open points in a short call instead of e-mail; "
    "I am available most afternoons this week, except {weekday}.",
    "The numbers in the attachment are based on {users} users and the current contract; if "
    "the scope changes, we will update them accordingly.",
    "One practical point: please send invoices to the central accounts payable address, "
    "otherwise they take weeks to reach the right person in {dept}.",
    "We are also reviewing how {trait} fits into our reporting. A short technical session "
    "with your experts would be useful before we decide anything.",
    "Thanks as well for the help with ticket {ticket} last month; the team noticed how "
    "quickly it was solved, and it made a difference during the close.",
    "I will be travelling to {city} on {weekday} with limited access to e-mail, but I can "
    "take calls in the evening if something urgent comes up.",
    "Please treat the figures in this message as confidential; they have not been shared "
    "outside the project team yet.",
    "On our side, the project sponsor is now {colleague_them}, who took over from the "
    "previous head of {dept} last month. I will introduce you at the next meeting.",
    "We compared the proposal with what {competitor} showed us in the spring. The "
    "functionality is similar; the difference is mostly in support and implementation.",
    "Could you also send a short overview of the training options? Some of our new "
    "colleagues in {city} have never worked with {product} before.",
    "The board meets on the first {weekday} of {month}. If the paperwork is complete by "
    "then, the decision can be taken in that session.",
)

REPLY_OPENERS = (
    "Thanks for the quick reply.",
    "Thank you, that helps a lot.",
    "Understood — thanks for clarifying.",
    "Thanks, I forwarded this to {colleague_them}.",
    "Perfect, that works for us.",
    "Good to hear from you.",
    "Thanks for sending this over.",
)
REPLY_PARAGRAPHS = (
    "I will discuss it with the team on {weekday} and come back to you with an answer "
    "by the end of the week.",
    "One more question: does the price include the training for new users we hire "
    "during the year, or is that billed separately?",
    "Our IT department needs the security documentation before they can sign off. Could "
    "you send the latest version of your certificate and the data-processing agreement?",
    "That sounds reasonable. Let us go ahead with the plan as described; I will inform "
    "{dept} so they can prepare the data.",
    "We had a similar discussion internally and came to the same conclusion, so no "
    "objections from our side.",
    "I am out of office from {weekday} until the end of next week. {colleague_them} will "
    "cover for me in the meantime.",
    "Could we add {colleague_them} to the thread? She will be responsible for the "
    "project on our side from next month.",
)
CLOSINGS_THEM = ("Best regards,", "Kind regards,", "Thanks and best,", "Cheers,", "Best,")
CLOSINGS_US = ("Best regards,", "Kind regards,", "Best,", "Thanks,")

MEETING_SUBJECTS = (
    "{product} workshop with {company}",
    "Quarterly review — {company}",
    "Kick-off: {product} rollout",
    "Contract discussion {company}",
    "Demo: {product} for {dept}",
    "Catch-up {first} / Sam",
    "Roadmap session {product}",
    "Lunch with {first}",
)
MEETING_AGENDA = (
    "Results since the last review",
    "Open support tickets and their status",
    "Roadmap for {product}",
    "Licence count and renewal date",
    "Integration with the ERP",
    "Training plan for new users",
    "Commercial proposal and next steps",
    "Their plans for the new entities in {country}",
    "Questions from {dept}",
    "Reference visit for another customer",
)
MEETING_NOTES = (
    "{first} confirmed the budget is approved for phase one; phase two depends on the "
    "results after three months.",
    "The team likes {trait} but finds the reporting module hard to navigate; {colleague} "
    "will send the new training videos.",
    "Procurement wants three quotes; {competitor} and one local vendor are the others.",
    "Decision expected at the board meeting at the end of {month}.",
    "They asked for a reference customer in {industry}; we will propose two names.",
    "IT raised concerns about single sign-on. A technical call with {colleague} is planned.",
    "Usage is up, but two departments still work in spreadsheets; agreed to run a workshop.",
    "The new CFO wants to review all software contracts this year — renewal may be questioned.",
)
MEETING_NEXT_STEPS = (
    "{colleague} sends the updated proposal by {weekday}.",
    "{first} checks the budget with finance and comes back to us.",
    "Schedule a technical deep-dive on {trait} with their IT team.",
    "Share the reference list for {industry} customers.",
    "Book the follow-up meeting for early {month}.",
    "Prepare the usage report for the next quarterly review.",
    "Send the security documentation and the data-processing agreement.",
    "{first} introduces us to the new head of {dept}.",
)
CALL_SUBJECTS = (
    "Call with {name}",
    "Phone call: {product} questions",
    "Quick call about the offer",
    "Call: renewal {year}",
    "Missed call follow-up",
)
CALL_NOTES = (
    "Spoke with {first} for about {minutes} minutes.",
    "They are still comparing us with {competitor}; price is the main topic.",
    "{first} will present the proposal to the management team on {weekday}.",
    "Agreed to send the updated offer by the end of the week.",
    "Reached voicemail first; {first} called back in the afternoon.",
    "Good call: the pilot went well and they want to extend it to {dept}.",
    "They need the security questionnaire filled in before any further steps.",
    "Budget is frozen until the next quarter; follow up in {month}.",
    "{first} mentioned that {competitor} called them twice last month.",
    "The rollout in {country} is delayed by a month because of a reorganisation.",
    "They liked the {trait} demo; the team in {city} wants to see it as well.",
    "Asked about discounts for a three-year term; I promised an answer by {weekday}.",
    "Invoice {invoice} is stuck in their approval workflow; {first} will chase it.",
    "Next step: a workshop with {dept} in {month}, {colleague} to join.",
)

# Feedback the customer gives: (topic, sentiment, subject kind, sentence).
FEEDBACK_LINES: tuple[tuple[str, str, str, str], ...] = (
    ("product", "positive", "product", "Honestly, {product} saved our team a week every month."),
    ("product", "positive", "product", "The new {trait} in {product} is exactly what we needed."),
    (
        "product",
        "negative",
        "product",
        "{product} is slow when we open {trait} with a year of data.",
    ),
    ("product", "negative", "product", "Our users find {trait} in {product} confusing."),
    ("product", "neutral", "product", "{product} does the job, but {trait} needs more options."),
    (
        "competitor",
        "negative",
        "competitor",
        "{competitor} offered us 20% less for a similar scope.",
    ),
    ("competitor", "neutral", "competitor", "{competitor} has a nicer mobile app, to be fair."),
    (
        "competitor",
        "positive",
        "competitor",
        "We left {competitor} because their support never answered.",
    ),
    ("price", "negative", "product", "The price for {product} is above what finance expected."),
    ("price", "neutral", "product", "Per-user pricing for {product} is hard for us to budget."),
    ("service", "positive", "product", "Your support team fixed the {product} issue within a day."),
    (
        "service",
        "negative",
        "product",
        "We waited two weeks for an answer on the {product} ticket.",
    ),
    ("other", "neutral", "product", "We would like {product} documentation in {language}."),
)

NOTE_OPENERS = (
    "Notes after the meeting with {name}:",
    "Call with {name} ({company}):",
    "Thoughts after visiting {company}:",
    "Feedback from {name} at {company}:",
    "Internal note on {company}:",
)
NOTE_LINES = (
    "They plan to extend the rollout to {country} next year.",
    "Budget cycle starts in {month}; proposal must be in before then.",
    "{name} is the real decision maker, not the IT director.",
    "Good relationship — ask {name} for a reference call.",
    "Watch out: new CFO, contracts are under review.",
    "Send the case study from the {industry} customer.",
    "They want to see the roadmap for {product} before committing.",
)


def fill(template: str, ctx: Mapping[str, str]) -> str:
    return template.format_map(ctx)


def weekday(rng: random.Random) -> str:
    return rng.choice(_WEEKDAYS)


def month(rng: random.Random) -> str:
    return rng.choice(_MONTHS)


def month_name(index: int) -> str:
    return _MONTHS[index]


def paragraph_stream(
    rng: random.Random, pool: tuple[str, ...], ctx: Mapping[str, str], *, most: int = 4
) -> Iterator[str]:
    """Up to ``most`` paragraphs of ``pool`` in order from a random start (now and then
    skipping one), then the general paragraphs likewise; none repeated."""
    for source, limit, skip in (
        (pool, most, 0.3),
        (GENERAL_PARAGRAPHS, len(GENERAL_PARAGRAPHS), 0.4),
    ):
        count = len(source)
        index = rng.randrange(count)
        used: set[int] = set()
        for _ in range(min(limit, count)):
            while index in used:
                index = (index + 1) % count
            used.add(index)
            yield source[index].format_map(ctx)
            index = (index + 1 + (rng.random() < skip)) % count


def email_body(
    head: Sequence[str],
    filler: Iterable[str],
    tail: Sequence[str],
    target: int,
    ctx: Mapping[str, str],
    *,
    quote_intro: str = "",
    quoted: str = "",
    own_chars: int = 300,
) -> str:
    """An e-mail of about ``target`` characters, always within ``EMAIL_CHARS``.

    ``head`` (greeting, opening lines) and ``tail`` (closing, signature) are kept whole;
    paragraphs of ``filler`` go between them until the text reaches ``target``. A reply
    writes only about ``own_chars`` of its own and quotes the previous message below it,
    line by line, up to ``target``. A paragraph or line that would push the text past the
    upper bound is left out.
    """
    low, high = EMAIL_CHARS
    if not low <= target <= high:
        raise ValueError(f"an e-mail's target size must be within {low}..{high}, not {target}")
    parts = [*head]
    size = _joined_size([*head, *tail], 2)
    goal = target if not quoted else min(target, size + own_chars)
    for paragraph in filler:
        if size >= goal:
            break
        if size + len(paragraph) + 2 <= high:
            parts.append(paragraph)
            size += len(paragraph) + 2
    quote = ""
    if quoted and size + len(quote_intro) + 2 < high:
        lines = [quote_intro]
        size += len(quote_intro) + 2
        for line in quoted.splitlines():
            if size >= target:
                break
            marked = "> " + line if line else ">"
            if size + len(marked) + 1 > high:
                break
            lines.append(marked)
            size += len(marked) + 1
        quote = "\n\n" + "\n".join(lines)
    text = "\n\n".join([*parts, *tail]) + quote
    if len(text) < low:
        # Too short even with everything offered (a tiny quoted message): pad with
        # general paragraphs before the closing.
        for paragraph in GENERAL_PARAGRAPHS:
            if len(text) >= low:
                break
            parts.append(paragraph.format_map(ctx))
            text = "\n\n".join([*parts, *tail]) + quote
    return text


def _joined_size(parts: Sequence[str], separator: int) -> int:
    return sum(len(part) for part in parts) + separator * max(0, len(parts) - 1)
