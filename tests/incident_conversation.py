"""A second 60-turn conversation for the summarizer's quality tests, unlike
`long_conversation.py` in subject and in its filler: an engineer working
through a production incident with an assistant. The filler is dense with
the kind of tokens the summarizer prefers (versions such as `Ubuntu 22.04`
and `Python 3.11`, ports, HTTP codes, tool names, durations), so the 10
planted `FACTS` of the first 40 turns compete with specific-looking
generic advice. Each fact is said once, in passing, inside a longer turn.
"""

from __future__ import annotations

TURNS: list[tuple[str, str]] = [
    ("user", "Morning. Rough night, we had an outage and I need help writing things up."),
    (
        "assistant",
        "Good morning, sorry to hear that. I can help you reconstruct the timeline and draft "
        "a postmortem. What happened, roughly?",
    ),
    (
        "user",
        "The checkout API started returning errors in the middle of the night. It began "
        "at 03:42 UTC according to our alerts, and it took us almost two hours to recover.",
    ),
    (
        "assistant",
        "Two hours is a long incident, so a clear write-up will be valuable. A typical "
        "postmortem has 5 parts: summary, impact, timeline, root cause and follow-up "
        "actions. Let's start with the timeline while it's fresh. Do you have the alert "
        "history from your monitoring system?",
    ),
    ("user", "Yes, we use Grafana with Prometheus. I can export the alerts."),
    (
        "assistant",
        "Great. Grafana can export panel data as CSV, and Prometheus alert history is "
        "usually available from Alertmanager. Step 1 is to collect every alert with its "
        "timestamp. Step 2 is to line them up with deploys and config changes. Step 3 is "
        "to mark when customers were affected.",
    ),
    (
        "user",
        "The errors were mostly HTTP 500s from the payment service. The logs say error "
        "code E4019, which I've never seen before.",
    ),
    (
        "assistant",
        "An unfamiliar error code is worth searching for in your codebase and in the "
        "vendor documentation. Often these codes map to a specific exception, like a "
        "connection pool being exhausted or a timeout talking to a dependency. Is the "
        "payment service talking to a database directly?",
    ),
    (
        "user",
        "It is. It talks to our main Postgres cluster, and the primary is db-prod-07 in "
        "the eu-west region.",
    ),
    (
        "assistant",
        "Then it's worth checking the database side for the same window: connection "
        "counts, replication lag, disk usage and slow queries. On Ubuntu 22.04 you can "
        "check disk space with df -h and the Postgres logs are usually under "
        "/var/log/postgresql.",
    ),
    ("user", "Okay, checking now."),
    ("assistant", "Take your time. Let me know what you find."),
    (
        "user",
        "Found it, I think. The WAL volume was at 100 percent. Postgres stopped accepting "
        "writes, so the payment service kept failing.",
    ),
    (
        "assistant",
        "That fits the symptoms well. When the write-ahead log volume fills up, Postgres "
        "can't write new transactions and clients see errors. Common causes are a stuck "
        "replication slot, an archiving command that keeps failing, or simply not enough "
        "space provisioned. Do you know which one it was?",
    ),
    (
        "user",
        "The archiving job had been failing silently for days. Also for context, we're "
        "running version 2.14.3 of the backup agent, which is the one that does the "
        "archiving.",
    ),
    (
        "assistant",
        "Silent failures are a classic contributor. It's a good idea to add an alert on "
        "archive failures and on WAL volume usage, for example at 70 and 85 percent. "
        "Checking the agent's release notes for known issues is worthwhile too.",
    ),
    ("user", "Makes sense. How should I phrase the impact section?"),
    (
        "assistant",
        "Keep it factual and quantified: how long customers were affected, what "
        "percentage of requests failed, and any financial or contractual consequences. "
        "Avoid blame and stick to what the data shows.",
    ),
    (
        "user",
        "Honestly the money side is what everyone upstairs asks about. Finance told me "
        "we owe the customer an SLA credit of €12,400 for this, which is going to sting.",
    ),
    (
        "assistant",
        "That's important to include, since it shows the real cost of the incident and "
        "helps justify the follow-up work. You might also note whether any other "
        "customers were affected below the SLA threshold.",
    ),
    ("user", "Good idea. Is 99.9 percent uptime a realistic target for us?"),
    (
        "assistant",
        "99.9 percent allows about 43 minutes of downtime a month, so a two-hour outage "
        "uses up more than that in one go. Many teams aim for 99.9 on customer-facing "
        "services and accept less on internal tools. It depends on your architecture and "
        "your on-call setup.",
    ),
    (
        "user",
        "Speaking of on-call, the engineer who handled it was Priyanka Deshmukh, and she "
        "did a great job given how confusing the alerts were. I want that in the write-up.",
    ),
    (
        "assistant",
        "It's good practice to acknowledge the people who responded. You can also ask "
        "her to review the timeline, since she'll remember details the logs don't show.",
    ),
    ("user", "Will do. What tools do people use for writing these?"),
    (
        "assistant",
        "Many teams use a shared document in Google Docs or Confluence with a fixed "
        "template. Some use incident tools like PagerDuty or incident.io that generate a "
        "draft from the timeline. The tool matters less than having a consistent "
        "structure.",
    ),
    (
        "user",
        "We use Confluence. The internal ticket for the incident is 88217, by the way, "
        "so I'll link that from the page.",
    ),
    (
        "assistant",
        "Linking the ticket is helpful for traceability. You could also link the "
        "relevant dashboards and the pull requests for any fixes.",
    ),
    ("user", "What about the failover? Why didn't it kick in?"),
    (
        "assistant",
        "That's an important question for the root cause section. Automatic failover "
        "usually only triggers when the primary is unreachable, not when it's up but "
        "unable to write. Where is your replica located?",
    ),
    (
        "user",
        "It's a streaming replica, and it lives in Frankfurt, so a separate data centre. "
        "But as you said, the primary was technically up.",
    ),
    (
        "assistant",
        "Right, so from the health checker's point of view nothing was wrong. A write "
        "probe, a small test transaction every 10 seconds, would catch this kind of "
        "failure and could trigger failover or at least a page.",
    ),
    ("user", "Nice, adding that to the action items."),
    ("assistant", "Sounds good. Anything else you'd like in the action items?"),
    (
        "user",
        "The timing is awkward too. Our contract with that customer renews on 30 "
        "September, so the CTO, Marguerite, wants the postmortem shared with them "
        "before the end of the week.",
    ),
    (
        "assistant",
        "Then it's worth prioritising the customer-facing version. You can keep an "
        "internal version with more technical detail and a shorter external summary "
        "that focuses on impact, cause and prevention.",
    ),
    ("user", "Got it. Can you draft the action items list?"),
    (
        "assistant",
        "Here's a draft. 1, alert on archive failures. 2, alert on WAL volume usage at "
        "70 and 85 percent. 3, add a write probe every 10 seconds. 4, review failover "
        "criteria. 5, run a game day in Q3 to test the new alerts.",
    ),
    ("user", "That's great, thank you."),
    (
        "assistant",
        "You're welcome. Would you like help with the external summary next?",
    ),
    ("user", "Yes, but keep it short and non-technical."),
    (
        "assistant",
        "Here's a short version. On the night of the incident, a storage issue in our "
        "database prevented new payments from being processed for about two hours. We "
        "have fixed the underlying cause and added monitoring to detect similar issues "
        "early.",
    ),
    ("user", "Perfect. Should I mention the root cause in more detail?"),
    (
        "assistant",
        "For an external audience, one sentence is usually enough. Customers mostly want "
        "to know that you understand what happened and that it won't happen again.",
    ),
    ("user", "Okay. How long should the internal version be?"),
    (
        "assistant",
        "Two to four pages is typical. Longer documents tend not to be read. Put the "
        "summary and the action items at the top.",
    ),
    ("user", "Should I include graphs?"),
    (
        "assistant",
        "Yes, one or two graphs help a lot, for example error rate and WAL volume usage "
        "over the incident window. Screenshots from Grafana are fine.",
    ),
    ("user", "Cool. I'll grab those after lunch."),
    (
        "assistant",
        "Sounds like a plan. Let me know if you want me to review the draft afterwards.",
    ),
    ("user", "Will do. Do you think a blameless format works for leadership?"),
    (
        "assistant",
        "In most organisations it does, as long as the action items have clear owners "
        "and dates. Leadership usually cares most about whether the risk is reduced.",
    ),
    ("user", "Okay, that's reassuring."),
    (
        "assistant",
        "Incidents are stressful, but a good postmortem turns them into improvements. "
        "You're on the right track.",
    ),
    ("user", "One last thing: should every action item have a due date?"),
    (
        "assistant",
        "Yes, every action item should have an owner and a due date, otherwise they tend "
        "to drift. Review them in your next team meeting until they are all closed.",
    ),
    ("user", "Thanks. I'll come back with the draft later."),
    ("assistant", "Great, talk to you later. Good luck with the write-up!"),
    ("user", "Cheers!"),
    ("assistant", "Take care."),
]

# Each planted fact and the distinctive token that must remain of it.
FACTS: dict[str, str] = {
    "when the outage began": "03:42",
    "the error code": "E4019",
    "the primary database": "db-prod-07",
    "the backup agent's version": "2.14.3",
    "the SLA credit": "12,400",
    "the on-call engineer": "Deshmukh",
    "the incident ticket": "88217",
    "where the replica is": "Frankfurt",
    "the contract's renewal date": "30 September",
    "the CTO's name": "Marguerite",
}
