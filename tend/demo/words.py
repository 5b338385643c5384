"""Word lists and value tables the demo draws from (precomputed, so that 100k companies are cheap)."""

import re

REGIONS = {
    # region: (country, cities, company-name prefixes, legal suffix, phone prefix)
    "ja": (
        "Japan",
        ("Tokyo", "Osaka", "Yokohama", "Fukuoka"),
        ("Sakura", "Fuji", "Hikari", "Midori", "Sora", "Tsubasa", "Hoshi", "Kawa"),
        "K.K.",
        "+81 3-",
    ),
    "de": (
        "Germany",
        ("Berlin", "Munich", "Hamburg", "Cologne"),
        ("Nordlicht", "Alpen", "Rhein", "Elbe", "Falken", "Lindner", "Sonnen", "Eichen"),
        "GmbH",
        "+49 30 ",
    ),
    "it": (
        "Italy",
        ("Rome", "Milan", "Turin", "Bologna"),
        ("Aurora", "Vento", "Stella", "Fiore", "Monte", "Sole", "Luna", "Verde"),
        "S.r.l.",
        "+39 06 ",
    ),
    "us": (
        "United States",
        ("New York", "Austin", "San Francisco", "Chicago", "Seattle"),
        (
            "Northwind",
            "Blue Peak",
            "Summit",
            "Redwood",
            "Brightline",
            "Evergreen",
            "Cobalt",
            "Keystone",
            "Beacon",
            "Riverbend",
        ),
        "Inc.",
        "+1 212-555-",
    ),
    "uk": (
        "United Kingdom",
        ("London", "Manchester", "Edinburgh"),
        ("Thames", "Kestrel", "Ashford", "Greystone", "Harbourside", "Oakhurst"),
        "Ltd",
        "+44 20 7946 ",
    ),
}
REGION_WEIGHTS = {"ja": 15, "de": 20, "it": 15, "us": 35, "uk": 15}
INDUSTRY_WORDS = {
    "software": ("Analytics", "Cloud", "Labs", "Systems", "Data"),
    "manufacturing": ("Robotics", "Machines", "Components", "Metalworks", "Industries"),
    "retail": ("Market", "Stores", "Goods", "Outfitters", "Fashion"),
    "healthcare": ("Health", "Care", "Medical", "Clinics", "Diagnostics"),
    "finance": ("Capital", "Finance", "Payments", "Ledger", "Insurance"),
    "education": ("Learning", "Academy", "Education", "Tutoring", "Campus"),
}
FIRST_NAMES = {
    "ja": (
        ("優希", "yuki"),
        ("陽翔", "haruto"),
        ("さくら", "sakura"),
        ("蓮", "ren"),
        ("葵", "aoi"),
        ("蒼太", "sota"),
        ("陽菜", "hina"),
        ("海斗", "kaito"),
        ("芽衣", "mei"),
        ("陸", "riku"),
    ),
    "de": (
        ("Lukas", "lukas"),
        ("Anna", "anna"),
        ("Felix", "felix"),
        ("Marie", "marie"),
        ("Jonas", "jonas"),
        ("Lea", "lea"),
        ("Paul", "paul"),
        ("Sophie", "sophie"),
        ("Jürgen", "juergen"),
        ("Hannah", "hannah"),
    ),
    "it": (
        ("Giulia", "giulia"),
        ("Marco", "marco"),
        ("Francesca", "francesca"),
        ("Luca", "luca"),
        ("Chiara", "chiara"),
        ("Matteo", "matteo"),
        ("Sara", "sara"),
        ("Niccolò", "niccolo"),
        ("Elena", "elena"),
        ("Davide", "davide"),
    ),
    "en": (
        ("Emma", "emma"),
        ("Liam", "liam"),
        ("Olivia", "olivia"),
        ("Noah", "noah"),
        ("Ava", "ava"),
        ("Ethan", "ethan"),
        ("Mia", "mia"),
        ("Lucas", "lucas"),
        ("Harper", "harper"),
        ("James", "james"),
    ),
}
LAST_NAMES = {
    "ja": (
        ("佐藤", "sato"),
        ("鈴木", "suzuki"),
        ("高橋", "takahashi"),
        ("田中", "tanaka"),
        ("渡辺", "watanabe"),
        ("伊藤", "ito"),
        ("山本", "yamamoto"),
        ("中村", "nakamura"),
        ("小林", "kobayashi"),
        ("加藤", "kato"),
    ),
    "de": (
        ("Müller", "mueller"),
        ("Schmidt", "schmidt"),
        ("Schneider", "schneider"),
        ("Fischer", "fischer"),
        ("Weber", "weber"),
        ("Meyer", "meyer"),
        ("Wagner", "wagner"),
        ("Becker", "becker"),
        ("Hoffmann", "hoffmann"),
        ("Schulz", "schulz"),
    ),
    "it": (
        ("Rossi", "rossi"),
        ("Russo", "russo"),
        ("Ferrari", "ferrari"),
        ("Esposito", "esposito"),
        ("Bianchi", "bianchi"),
        ("Romano", "romano"),
        ("Colombo", "colombo"),
        ("Ricci", "ricci"),
        ("Marino", "marino"),
        ("Greco", "greco"),
    ),
    "en": (
        ("Smith", "smith"),
        ("Johnson", "johnson"),
        ("Brown", "brown"),
        ("Garcia", "garcia"),
        ("Miller", "miller"),
        ("Davis", "davis"),
        ("Wilson", "wilson"),
        ("Clark", "clark"),
        ("Lewis", "lewis"),
        ("Walker", "walker"),
    ),
}
JOB_TITLES = (
    "Head of Operations",
    "VP Customer Experience",
    "IT Manager",
    "Project Lead",
    "CFO",
    "Product Owner",
    "Office Manager",
    "Data Analyst",
)
TICKET_SUBJECTS = (
    "Cannot export report to CSV",
    "SSO login fails for new users",
    "Question about invoice",
    "Dashboard loads slowly",
    "Feature request: custom fields on tasks",
    "API rate limit reached",
    "Password reset email not received",
    "How do we add a new team?",
)
TASK_SUBJECTS = (
    "Prepare QBR deck for {c}",
    "Follow up on renewal with {c}",
    "Review product usage of {c}",
    "Send onboarding recap to {c}",
    "Check open tickets of {c}",
    "Call the champion at {c}",
    "Plan expansion conversation with {c}",
    "Update success plan for {c}",
)
MEETING_TITLES = (
    "Quarterly business review – {c}",
    "Onboarding check-in – {c}",
    "Renewal discussion – {c}",
    "Training session – {c}",
    "Executive sponsor sync – {c}",
)
NOTE_BODIES = (
    "Champion is happy with the rollout; wants a training for the new team in {c}.",
    "Budget review next quarter at {c}; renewal depends on adoption of reports.",
    "{c} asked for an SSO walkthrough. Sent the docs.",
    "Usage dropped after their admin left {c}; find a new champion.",
)
CALL_TITLES = ("Check-in call with {c}", "Renewal call with {c}", "Escalation call with {c}")
EMAIL_SUBJECTS = (
    "Your onboarding plan, {c}",
    "Recap of our call – {c}",
    "Renewal options for {c}",
    "New features your team asked for",
)
# fmt: on

MRR_RANGE = {"starter": (19, 90, 10), "growth": (100, 500, 10), "enterprise": (60, 400, 100)}
EMPLOYEES_RANGE = {"starter": (5, 60), "growth": (50, 600), "enterprise": (500, 25_000)}
ONBOARDING_STAGES = (
    # (stage label, first day since contract start)
    ("Kickoff prep", 0),
    ("Kickoff done", 7),
    ("Initial setup done", 21),
    ("Training done", 40),
    ("First value review", 55),
)
# Lookup tables for the hot loop: one random() call picks a weighted entry.
REGION_TABLE = tuple(region for region, weight in REGION_WEIGHTS.items() for _ in range(weight))
INDUSTRIES = tuple(INDUSTRY_WORDS)
PLAN_TABLE = ("starter",) * 45 + ("growth",) * 35 + ("enterprise",) * 20
NPS_HAPPY = (6, 7, 8, 8, 9, 9, 10, 10)
NPS_UNHAPPY = (3, 5, 6, 7, 7, 8)
SLUGS = {
    (prefix, word): f"{re.sub(r'[^a-z0-9]+', '', prefix.lower())}-{word.lower()}"
    for _country, _cities, prefixes, _suffix, _phone in REGIONS.values()
    for prefix in prefixes
    for words in INDUSTRY_WORDS.values()
    for word in words
}
