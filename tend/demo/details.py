"""The detailed part of a demo company: contacts, deals, tickets, services and engagements."""

import datetime as dt
from typing import TYPE_CHECKING

from tend.crm import values
from tend.engagement.models import Call, Email, Meeting, Note, Task

from .rows import Company, local
from .words import (
    CALL_TITLES,
    EMAIL_SUBJECTS,
    FIRST_NAMES,
    JOB_TITLES,
    LAST_NAMES,
    MEETING_TITLES,
    NOTE_BODIES,
    ONBOARDING_STAGES,
    REGIONS,
    TASK_SUBJECTS,
    TICKET_SUBJECTS,
)

if TYPE_CHECKING:
    from .generate import Generator


def plan_details(g: "Generator", c: Company) -> None:
    r = g.rng
    region_names = c.region if c.region in FIRST_NAMES else "en"
    phone = REGIONS[c.region][4]
    created = c.record.created_at
    # Contacts: the first is the primary, key contact.
    seen = set()
    for k in range(r.choices((1, 2, 3, 4), weights=(3, 4, 2, 1))[0]):
        first, first_ascii = r.choice(FIRST_NAMES[region_names])
        last, last_ascii = r.choice(LAST_NAMES[region_names])
        local = f"{first_ascii}.{last_ascii}"
        if local in seen:
            local = f"{local}{k + 1}"
        seen.add(local)
        props = {
            "email": f"{local}@{c.domain}",
            "first_name": first,
            "last_name": last,
            "job_title": JOB_TITLES[0 if k == 0 else r.randrange(1, len(JOB_TITLES))],
            "phone": f"{phone}{r.randint(1000, 9999)}",
            "key_contact": k == 0,
        }
        if k > 0 and r.random() < 0.08:
            props["left_company"] = True
        if r.random() < 0.4:
            props["nps"] = r.randint(5, 10)
        full = f"{last} {first}" if c.region == "ja" else f"{first} {last}"
        contact = g.record("contacts", full, c.csm, created, props)
        if k == 0:
            contact.last_activity_at = c.record.last_activity_at
        c.contacts.append(contact)
        c.children.append((contact, "primary" if k == 0 else ""))
    plan_deals(g, c)
    plan_tickets(g, c)
    plan_services(g, c)
    plan_engagements(g, c)


def plan_deals(g: "Generator", c: Company) -> None:
    r = g.rng
    stages = g.stages["Sales pipeline"]
    name = c.record.name
    plan_label = c.plan.capitalize()
    won = {
        "amount": c.mrr * 12,
        "close_date": c.start.isoformat(),
        "deal_type": "new_business",
        "contract_end_date": c.renewal.isoformat(),
        "mrr": c.mrr,
        "csm": c.csm,
    }
    c.children.append(
        (
            g.record("deals", f"{name} – {plan_label}", c.csm, g.at(c.start, -10), won, stages["Closed won"]),
            "",
        )
    )
    days_to_renewal = (c.renewal - g.today).days
    if c.cs_stage == "churned":
        lost = {"amount": c.mrr * 12, "close_date": c.renewal.isoformat(), "deal_type": "renewal", "csm": c.csm}
        c.children.append(
            (
                g.record(
                    "deals",
                    f"{name} – renewal {c.renewal.year}",
                    c.csm,
                    g.at(c.renewal, -60),
                    lost,
                    stages["Closed lost"],
                ),
                "",
            )
        )
    elif -30 <= days_to_renewal <= 120:
        stage = stages["Contract sent" if days_to_renewal < 30 else "Qualified to buy"]
        renewal = {
            "amount": round(c.mrr * 12 * r.choice((1.0, 1.0, 1.05, 1.1))),
            "close_date": c.renewal.isoformat(),
            "deal_type": "renewal",
            "mrr": c.mrr,
            "csm": c.csm,
        }
        c.children.append(
            (
                g.record(
                    "deals",
                    f"{name} – renewal {c.renewal.year}",
                    c.csm,
                    g.at(g.today, -r.randint(5, 40)),
                    renewal,
                    stage,
                ),
                "",
            )
        )
    if c.cs_stage == "active" and r.random() < 0.15:
        amount = r.randrange(2, 20) * 1200
        expansion = {
            "amount": amount,
            "close_date": (g.today + dt.timedelta(days=r.randint(20, 120))).isoformat(),
            "deal_type": "expansion",
            "csm": c.csm,
        }
        stage = stages[r.choice(("Appointment scheduled", "Qualified to buy"))]
        c.children.append(
            (
                g.record("deals", f"{name} – expansion", c.csm, g.at(g.today, -r.randint(1, 30)), expansion, stage),
                "",
            )
        )


def plan_tickets(g: "Generator", c: Company) -> None:
    r = g.rng
    stages = g.stages["Support pipeline"]
    for _k in range(r.choices((0, 1, 2, 3), weights=(4, 3, 2, 1))[0]):
        subject = r.choice(TICKET_SUBJECTS)
        created = g.at(g.today, -r.randint(0, 90), r.randint(0, 24 * 60 - 1))
        stage_label = r.choices(("New", "Waiting on contact", "Waiting on us", "Closed"), weights=(25, 15, 20, 40))[0]
        props = {
            "description": f"{subject}. Reported by {c.contacts[0].name if c.contacts else 'the customer'}.",
            "priority": r.choices(("low", "medium", "high", "urgent"), weights=(30, 40, 20, 10))[0],
            "category": r.choice(("question", "problem", "feature_request", "billing")),
        }
        if stage_label == "Closed":
            closed = min(created + dt.timedelta(hours=r.randint(1, 96)), g.now)
            props["closed_at"] = values.format_datetime(closed)
            if r.random() < 0.6:
                props["csat"] = r.choices((1, 2, 3, 4, 5), weights=(1, 1, 2, 4, 6))[0]
        ticket = g.record("tickets", subject, c.csm, created, props, stages[stage_label])
        c.children.append((ticket, ""))


def plan_services(g: "Generator", c: Company) -> None:
    r = g.rng
    since_start = (g.today - c.start).days
    if c.cs_stage == "onboarding" or (c.cs_stage != "churned" and since_start < 400 and r.random() < 0.5):
        stages = g.stages["Onboarding"]
        props = {
            "service_type": "onboarding",
            "start_date": c.start.isoformat(),
            "target_end_date": (c.start + dt.timedelta(days=90)).isoformat(),
            "csm": c.csm,
        }
        if c.cs_stage == "onboarding":
            label = [s for s, first_day in ONBOARDING_STAGES if since_start >= first_day][-1]
            props["goal_status"] = "in_progress" if since_start > 14 else "not_started"
        else:
            label = "Onboarding complete"
            props["goal_status"] = r.choices(("achieved", "in_progress"), weights=(85, 15))[0]
        if label != "Kickoff prep":
            props["kickoff_date"] = (c.start + dt.timedelta(days=5)).isoformat()
        created = g.at(c.start)
        c.children.append(
            (g.record("services", f"Onboarding – {c.record.name}", c.csm, created, props, stages[label]), "")
        )
    if c.cs_stage in ("active", "at_risk") and r.random() < 0.15:
        stages = g.stages["Maintenance"]
        label = r.choice(tuple(stages))
        start = g.today + dt.timedelta(days=r.randint(-30, 20))
        props = {"service_type": "maintenance", "start_date": start.isoformat(), "csm": c.csm}
        created = g.at(g.today, -r.randint(20, 45))
        c.children.append(
            (g.record("services", f"Maintenance – {c.record.name}", c.csm, created, props, stages[label]), "")
        )


def plan_engagements(g: "Generator", c: Company) -> None:
    r = g.rng
    name = c.record.name
    links = [c.record] + c.contacts[:1]
    tz = g.zones[c.csm]
    contact_email = c.contacts[0].props["email"] if c.contacts else ""

    def past(max_days: int) -> dt.datetime:
        day = g.today - dt.timedelta(days=r.randint(1, max_days))
        # Yesterday afternoon in the Americas can still be ahead of "now" just after UTC midnight.
        return min(local(day, r.randint(9 * 60, 17 * 60), tz), g.now)

    if r.random() < 0.3:
        at = past(60)
        c.engagements.append(
            (
                Note(body=r.choice(NOTE_BODIES).format(c=name), owner_id=c.csm, created_at=at, updated_at=at),
                [c.record],
            )
        )
    if r.random() < 0.2:
        at = past(45)
        call = Call(
            title=r.choice(CALL_TITLES).format(c=name),
            body="",
            direction=r.choice(("outbound", "inbound")),
            outcome=r.choice(("connected", "connected", "no_answer", "left_voicemail")),
            duration_seconds=r.randint(60, 1800),
            occurred_at=at,
            owner_id=c.csm,
            created_at=at,
            updated_at=at,
        )
        c.engagements.append((call, links))
    if r.random() < 0.25 and contact_email:
        at = past(30)
        email = Email(
            subject=r.choice(EMAIL_SUBJECTS).format(c=name),
            body="",
            direction=r.choice(("outbound", "inbound")),
            from_address=g.emails[c.csm],
            to_addresses=[contact_email],
            occurred_at=at,
            owner_id=c.csm,
            created_at=at,
            updated_at=at,
        )
        c.engagements.append((email, links))
    if r.random() < 0.2:
        start = past(60)
        outcome = r.choices(("attended", "no_show", "cancelled"), weights=(80, 12, 8))[0]
        meeting = Meeting(
            title=r.choice(MEETING_TITLES).format(c=name),
            start_at=start,
            end_at=start + dt.timedelta(minutes=45),
            attendees=[contact_email] if contact_email else [],
            outcome=outcome,
            owner_id=c.csm,
            created_at=start - dt.timedelta(days=7),
            updated_at=start,
        )
        c.engagements.append((meeting, links))
    if r.random() < 0.5:
        due_day = g.today + dt.timedelta(days=r.randint(-20, 30))
        due = local(due_day, r.choice((9, 10, 11, 14, 15, 16)) * 60, tz)
        done = due_day < g.today and r.random() < 0.6
        created = min(due, g.now) - dt.timedelta(days=r.randint(1, 14))
        task = Task(
            subject=r.choice(TASK_SUBJECTS).format(c=name),
            type=r.choice(("todo", "call", "email")),
            priority=r.choice(("none", "low", "medium", "high")),
            status="completed" if done else r.choice(("not_started", "not_started", "in_progress", "waiting")),
            due_at=due,
            assignee_id=c.csm,
            completed_at=due if done else None,
            created_at=created,
            updated_at=due if done else created,
        )
        c.engagements.append((task, [c.record]))
