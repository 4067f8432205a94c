"""Word pools for the demo book: names, companies, places, products, and phone ranges.

Everything here is fictional. Domains use the reserved ``.example`` / ``.test`` TLDs
(RFC 2606), phone numbers come from ranges set aside for drama and documentation (Ofcom's
drama numbers, the North American 555-01XX block), so nothing in a demo book reaches a
real person or company.
"""

from __future__ import annotations

from dataclasses import dataclass

# ------------------------------------------------------------------ the rep's side

REP_GIVEN = "Sam"
REP_FAMILY = "Rivera"
REP_TITLE = "Senior Account Executive"
REP_COMPANY = "Kestrel Data"
REP_DOMAIN = "kestrel-data.example"
REP_ADDRESSES = ("sam.rivera@kestrel-data.example", "sam@kestrel-data.example")
REP_PHONE = "+44 20 7946 0018"
COLLEAGUES = (
    ("Priya Nair", "priya.nair@kestrel-data.example", "Solutions Engineer"),
    ("Tom Becker", "tom.becker@kestrel-data.example", "Customer Success Manager"),
    ("Lena Fischer", "lena.fischer@kestrel-data.example", "Sales Director"),
    ("Marco Conti", "marco.conti@kestrel-data.example", "Legal Counsel"),
    ("Aisha Okafor", "aisha.okafor@kestrel-data.example", "Implementation Lead"),
    ("Jonas Lind", "jonas.lind@kestrel-data.example", "Product Manager"),
)

PRODUCTS = ("Kestrel Ledger", "Kestrel Flow", "Kestrel Insight", "Kestrel Connect")
PRODUCT_TRAITS = {
    "Kestrel Ledger": ("month-end close", "audit trail", "multi-entity consolidation"),
    "Kestrel Flow": ("approval workflows", "the mobile app", "SAP integration"),
    "Kestrel Insight": ("dashboards", "forecasting", "the export to Excel"),
    "Kestrel Connect": ("the API", "single sign-on", "the data connectors"),
}
COMPETITORS = ("Stackwell", "Brightpath", "Quorra Software", "Mantis Suite", "Orbitra")

CONFERENCES = (
    "FinOps Summit Berlin",
    "Data Days Lisbon",
    "Supply Chain Forum Rotterdam",
    "CFO Connect London",
    "Automation Expo Lyon",
)

# ------------------------------------------------------------------ people


@dataclass(frozen=True)
class Nationality:
    code: str  # the country it is most at home in (ISO 3166 alpha-2)
    language: str
    given: tuple[str, ...]
    family: tuple[str, ...]
    greeting: str  # "Hi {first}," / "Hallo {first},"


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _names(text: str) -> tuple[str, ...]:
    """Comma-separated (family names may hold spaces: 'van den Berg')."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


NATIONALITIES: tuple[Nationality, ...] = (
    Nationality(
        "GB",
        "English",
        _words(
            "Oliver Amelia Harry Isla George Ava Jack Emily Charlie Sophie Thomas Grace James "
            "Lily William Freya Henry Ella Alfie Chloe Edward Lucy Rory Imogen Callum Hannah"
        ),
        _names(
            "Smith, Jones, Taylor, Brown, Williams, Wilson, Johnson, Davies, Robinson, Wright, "
            "Thompson, Evans, Walker, White, Roberts, Green, Hall, Wood, Jackson, Clarke, "
            "Hughes, Harrison, Fletcher, Ashworth, Pemberton, Whitfield"
        ),
        "Hi {first},",
    ),
    Nationality(
        "US",
        "English",
        _words(
            "Michael Jennifer David Jessica Christopher Ashley Matthew Sarah Joshua Megan "
            "Andrew Lauren Ryan Rachel Brandon Nicole Tyler Brittany Kevin Samantha Justin "
            "Danielle Aaron Courtney Marcus Kayla"
        ),
        _names(
            "Miller, Davis, Garcia, Rodriguez, Martinez, Anderson, Thomas, Moore, Martin, Lee, "
            "Perez, Harris, Sanchez, Clark, Ramirez, Lewis, Young, Allen, King, Scott, Baker, "
            "Nelson, Carter, Mitchell, Reynolds, Brooks"
        ),
        "Hi {first},",
    ),
    Nationality(
        "DE",
        "German",
        _words(
            "Lukas Anna Felix Lea Jonas Marie Maximilian Sophie Paul Laura Niklas Julia Tobias "
            "Katharina Florian Johanna Matthias Franziska Sebastian Miriam Jürgen Birgit Stefan "
            "Sabine Jörg Ute"
        ),
        _names(
            "Müller, Schmidt, Schneider, Fischer, Weber, Meyer, Wagner, Becker, Schulz, "
            "Hoffmann, Schäfer, Koch, Bauer, Richter, Klein, Wolf, Schröder, Neumann, Schwarz, "
            "Zimmermann, Braun, Krüger, Hofmann, Hartmann, Lange, Vogel"
        ),
        "Hallo {first},",
    ),
    Nationality(
        "FR",
        "French",
        _words(
            "Camille Louis Chloé Hugo Manon Lucas Léa Gabriel Inès Arthur Juliette Théo Élodie "
            "Antoine Margaux Julien Céline Mathieu Amélie Nicolas Aurélie Guillaume Sandrine "
            "Baptiste Hélène Rémi"
        ),
        _names(
            "Martin, Bernard, Dubois, Thomas, Robert, Richard, Petit, Durand, Leroy, Moreau, "
            "Simon, Laurent, Lefèvre, Michel, Garnier, Faure, Rousseau, Blanc, Guérin, Muller, "
            "Henry, Roussel, Girard, Bonnet, Dupont, Lambert"
        ),
        "Bonjour {first},",
    ),
    Nationality(
        "NL",
        "Dutch",
        _words(
            "Daan Emma Sem Julia Bram Sanne Lars Fleur Thijs Anouk Jeroen Maaike Ruben Lotte "
            "Joost Femke Wouter Ilse Sander Marloes Pieter Eline Koen Noor Bas Merel"
        ),
        _names(
            "de Jong, Jansen, de Vries, van den Berg, van Dijk, Bakker, Janssen, Visser, Smit, "
            "Meijer, de Boer, Mulder, de Groot, Bos, Vos, Peters, Hendriks, van Leeuwen, Dekker, "
            "Brouwer, de Wit, Dijkstra, Smits, de Graaf, van der Meer, Kuipers"
        ),
        "Hoi {first},",
    ),
    Nationality(
        "ES",
        "Spanish",
        _words(
            "Lucía Hugo Martina Pablo Sofía Álvaro Paula Javier Carmen Diego Elena Sergio Marta "
            "Adrián Laura Raúl Cristina Iván Nuria Jorge Beatriz Óscar Irene Andrés Rocío Mateo"
        ),
        _names(
            "García, Fernández, González, Rodríguez, López, Martínez, Sánchez, Pérez, Gómez, "
            "Martín, Jiménez, Ruiz, Hernández, Díaz, Moreno, Muñoz, Álvarez, Romero, Navarro, "
            "Torres, Domínguez, Vázquez, Ramos, Gil, Serrano, Castillo"
        ),
        "Hola {first},",
    ),
    Nationality(
        "IT",
        "Italian",
        _words(
            "Francesco Giulia Alessandro Chiara Lorenzo Francesca Matteo Sara Andrea Martina "
            "Davide Valentina Simone Elisa Federico Silvia Riccardo Alessia Stefano Federica "
            "Giorgio Beatrice Luca Ilaria Marco Elena"
        ),
        _names(
            "Rossi, Russo, Ferrari, Esposito, Bianchi, Romano, Colombo, Ricci, Marino, Greco, "
            "Bruno, Gallo, Conti, De Luca, Mancini, Costa, Giordano, Rizzo, Lombardi, Moretti, "
            "Barbieri, Fontana, Santoro, Mariani, Rinaldi, Caruso"
        ),
        "Ciao {first},",
    ),
    Nationality(
        "PT",
        "Portuguese",
        _words(
            "João Beatriz Tiago Mariana Rafael Inês Gonçalo Catarina Rodrigo Ana Diogo Joana "
            "Pedro Rita Miguel Sofia André Carolina Bruno Leonor Ricardo Marta Luís Teresa Nuno "
            "Filipa"
        ),
        _names(
            "Silva, Santos, Ferreira, Pereira, Oliveira, Costa, Rodrigues, Martins, Jesus, "
            "Sousa, Fernandes, Gonçalves, Gomes, Lopes, Marques, Alves, Almeida, Ribeiro, Pinto, "
            "Carvalho, Teixeira, Moreira, Correia, Mendes, Nunes, Soares"
        ),
        "Olá {first},",
    ),
    Nationality(
        "PL",
        "Polish",
        _words(
            "Jakub Zuzanna Kacper Julia Szymon Maja Mateusz Zofia Bartosz Aleksandra Łukasz "
            "Agnieszka Piotr Katarzyna Tomasz Magdalena Paweł Joanna Michał Monika Krzysztof "
            "Ewa Marcin Dorota Wojciech Natalia"
        ),
        _names(
            "Nowak, Kowalski, Wiśniewski, Wójcik, Kowalczyk, Kamiński, Lewandowski, Zieliński, "
            "Szymański, Woźniak, Dąbrowski, Kozłowski, Jankowski, Mazur, Kwiatkowski, Krawczyk, "
            "Piotrowski, Grabowski, Nowakowski, Pawłowski, Michalski, Adamczyk, Dudek, Zając, "
            "Wieczorek, Jabłoński"
        ),
        "Dzień dobry {first},",
    ),
    Nationality(
        "SE",
        "Swedish",
        _words(
            "Erik Astrid Lars Ingrid Oskar Elsa Anders Maja Johan Karin Magnus Linnea Nils "
            "Sofia Henrik Frida Gustav Emma Fredrik Sara Björn Agnes Mattias Ebba Per Klara"
        ),
        _names(
            "Andersson, Johansson, Karlsson, Nilsson, Eriksson, Larsson, Olsson, Persson, "
            "Svensson, Gustafsson, Pettersson, Jonsson, Jansson, Hansson, Bengtsson, Lindberg, "
            "Lindqvist, Lundgren, Berglund, Sandberg, Forsberg, Sjöberg, Wallin, Engström, Holm, "
            "Åkesson"
        ),
        "Hej {first},",
    ),
    Nationality(
        "DK",
        "Danish",
        _words(
            "Søren Mette Rasmus Line Mads Camilla Kasper Sofie Frederik Ida Mikkel Louise "
            "Anders Maja Jesper Signe Christian Anne Thomas Freja Emil Nanna Jens Trine Morten "
            "Pernille"
        ),
        _names(
            "Jensen, Nielsen, Hansen, Pedersen, Andersen, Christensen, Larsen, Sørensen, "
            "Rasmussen, Jørgensen, Petersen, Madsen, Kristensen, Olsen, Thomsen, Christiansen, "
            "Poulsen, Johansen, Møller, Mortensen, Knudsen, Holm, Lund, Østergaard, Dalgaard, "
            "Kjær"
        ),
        "Hej {first},",
    ),
    Nationality(
        "IN",
        "English",
        _words(
            "Aarav Ananya Vihaan Diya Arjun Isha Rohan Priya Karan Neha Rahul Pooja Aditya "
            "Sneha Vikram Kavya Siddharth Meera Nikhil Shreya Amit Divya Sanjay Lakshmi Ravi "
            "Anjali"
        ),
        _names(
            "Sharma, Patel, Gupta, Singh, Kumar, Reddy, Iyer, Nair, Menon, Rao, Joshi, Desai, "
            "Mehta, Chopra, Malhotra, Kapoor, Bhat, Banerjee, Chatterjee, Mukherjee, Pillai, "
            "Kulkarni, Verma, Agarwal, Srinivasan, Krishnan"
        ),
        "Hi {first},",
    ),
    Nationality(
        "CN",
        "English",
        _words(
            "Wei Fang Jun Li Hao Xin Lei Ying Ming Jing Yang Hui Chen Min Tao Yan Bo Lan Qiang "
            "Mei Jian Xiu Peng Na Kai Ling"
        ),
        _names(
            "Wang, Li, Zhang, Liu, Chen, Yang, Huang, Zhao, Wu, Zhou, Xu, Sun, Ma, Zhu, Hu, Guo, "
            "He, Lin, Gao, Luo, Zheng, Liang, Xie, Tang, Song, Han"
        ),
        "Hi {first},",
    ),
    Nationality(
        "JP",
        "English",
        _words(
            "Haruto Yui Sota Hina Yuto Sakura Ren Aoi Kenji Yuki Takumi Mio Hiroshi Naomi Daiki "
            "Emi Kaito Rina Shota Ayaka Ryo Kaori Kenta Mai Akira Noriko"
        ),
        _names(
            "Sato, Suzuki, Takahashi, Tanaka, Watanabe, Ito, Yamamoto, Nakamura, Kobayashi, "
            "Kato, Yoshida, Yamada, Sasaki, Yamaguchi, Matsumoto, Inoue, Kimura, Hayashi, "
            "Shimizu, Yamazaki, Mori, Abe, Ikeda, Hashimoto, Ishikawa, Ogawa"
        ),
        "Hi {first},",
    ),
    Nationality(
        "TR",
        "English",
        _words(
            "Mehmet Elif Mustafa Zeynep Ahmet Ayşe Emre Fatma Can Merve Burak Esra Murat Selin "
            "Kerem Deniz Oğuz Ebru Serkan Gizem Hakan Seda Onur Derya Volkan Pınar"
        ),
        _names(
            "Yılmaz, Kaya, Demir, Şahin, Çelik, Yıldız, Yıldırım, Öztürk, Aydın, Özdemir, "
            "Arslan, Doğan, Kılıç, Aslan, Çetin, Kara, Koç, Kurt, Özkan, Şimşek, Polat, Korkmaz, "
            "Erdoğan, Aksoy, Güneş, Tekin"
        ),
        "Merhaba {first},",
    ),
    Nationality(
        "NG",
        "English",
        _words(
            "Chinedu Ngozi Emeka Amaka Oluwaseun Funmilayo Tunde Chioma Ikenna Adaeze Babajide "
            "Yetunde Obinna Nneka Segun Bisi Kelechi Ifeoma Femi Temitope Uche Zainab Dayo Kemi "
            "Ade Halima"
        ),
        _names(
            "Okafor, Adeyemi, Okonkwo, Eze, Nwosu, Balogun, Ogunleye, Chukwu, Abubakar, Okeke, "
            "Adebayo, Ibrahim, Nwachukwu, Olawale, Obi, Afolabi, Uzor, Bello, Onyekachi, "
            "Ogbonna, Akinola, Oyelaran, Anyanwu, Salami, Ekwueme, Danjuma"
        ),
        "Hi {first},",
    ),
    Nationality(
        "IE",
        "English",
        _words(
            "Seán Aoife Cian Niamh Oisín Siobhán Darragh Ciara Eoin Sinéad Conor Róisín Pádraig "
            "Orla Fionn Caoimhe Ronan Aisling Declan Clodagh Liam Saoirse Dónal Gráinne Colm "
            "Méabh"
        ),
        _names(
            "Murphy, Kelly, O'Sullivan, Walsh, O'Brien, Byrne, Ryan, O'Connor, O'Neill, "
            "O'Reilly, Doyle, McCarthy, Gallagher, Doherty, Kennedy, Lynch, Murray, Quinn, "
            "Moore, McLoughlin, Brennan, Fitzgerald, Nolan, Keane, Dunne, Ó Briain"
        ),
        "Hi {first},",
    ),
    Nationality(
        "CZ",
        "Czech",
        _words(
            "Jan Tereza Jakub Eliška Tomáš Kateřina Petr Lucie Martin Veronika Ondřej Barbora "
            "Lukáš Markéta Vojtěch Klára Jiří Hana Pavel Zuzana Radek Petra Michal Lenka Filip "
            "Alena"
        ),
        _names(
            "Novák, Svoboda, Novotný, Dvořák, Černý, Procházka, Kučera, Veselý, Horák, Němec, "
            "Pokorný, Marek, Pospíšil, Hájek, Jelínek, Král, Růžička, Beneš, Fiala, Sedláček, "
            "Doležal, Zeman, Kolář, Navrátil, Čermák, Vaněk"
        ),
        "Dobrý den {first},",
    ),
)

# Letters that do not decompose to ASCII under NFKD, for e-mail local parts.
ASCII_FOLD = str.maketrans(
    {"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "æ": "ae", "Æ": "AE", "ı": "i", "đ": "d"}
)

DEPARTMENTS = (
    "Procurement",
    "IT",
    "Finance",
    "Operations",
    "Sales",
    "Marketing",
    "Engineering",
    "Legal",
    "Supply Chain",
    "Customer Service",
    "HR",
    "Data & Analytics",
)
SENIOR_TITLES = (
    "Chief Financial Officer",
    "Chief Information Officer",
    "Chief Operating Officer",
    "Chief Technology Officer",
    "Managing Director",
)
TITLE_PATTERNS = (
    ("VP {dept}", 1),
    ("Head of {dept}", 3),
    ("Director of {dept}", 2),
    ("{dept} Manager", 5),
    ("Senior {dept} Analyst", 3),
    ("{dept} Specialist", 3),
    ("Team Lead {dept}", 2),
    ("{dept} Coordinator", 2),
)
PERSON_TAGS = ("decision-maker", "champion", "newsletter", "technical", "detractor", "alumni")
PERSON_ABOUT = (
    "Met at {conference}; came by the booth asking about {trait}.",
    "Introduced by {colleague}. Prefers short calls over long e-mails.",
    "Former {competitor} customer — knows the market well.",
    "Runs the evaluation on their side; cares most about {trait}.",
    "Reports to the CFO. Very detail-oriented, wants numbers in writing.",
    "Speaks at user groups; a possible reference if the rollout goes well.",
    "Joined from a consultancy; brings a lot of process experience.",
    "Part-time in the office on Fridays; best reached Tuesday to Thursday.",
)

# ---------------------------------------------------------------- companies

INDUSTRIES = (
    "Logistics",
    "Manufacturing",
    "Retail",
    "Healthcare",
    "Financial Services",
    "Energy",
    "Food & Beverage",
    "Construction",
    "Pharmaceuticals",
    "Telecommunications",
    "Automotive",
    "Media",
    "Education",
    "Hospitality",
    "Public Sector",
    "Insurance",
)
INDUSTRY_WORDS = {
    "Logistics": ("Logistics", "Freight", "Transport", "Cargo", "Shipping"),
    "Manufacturing": ("Industries", "Manufacturing", "Components", "Precision", "Works"),
    "Retail": ("Retail", "Stores", "Market", "Trading", "Outlet"),
    "Healthcare": ("Health", "Clinics", "Care", "Medical", "Diagnostics"),
    "Financial Services": ("Capital", "Finance", "Partners", "Asset Management", "Credit"),
    "Energy": ("Energy", "Power", "Renewables", "Utilities", "Grid"),
    "Food & Beverage": ("Foods", "Beverages", "Dairy", "Brewing", "Bakeries"),
    "Construction": ("Construction", "Build", "Engineering", "Structures", "Infra"),
    "Pharmaceuticals": ("Pharma", "Biotech", "Therapeutics", "Labs", "Life Sciences"),
    "Telecommunications": ("Telecom", "Networks", "Connect", "Mobile", "Fibre"),
    "Automotive": ("Automotive", "Motors", "Mobility", "Drive", "Parts"),
    "Media": ("Media", "Studios", "Publishing", "Broadcast", "Digital"),
    "Education": ("Academy", "Learning", "Education", "Institute", "Schools"),
    "Hospitality": ("Hotels", "Hospitality", "Resorts", "Travel", "Catering"),
    "Public Sector": ("Authority", "Agency", "Services", "Council", "Administration"),
    "Insurance": ("Insurance", "Assurance", "Mutual", "Risk", "Underwriters"),
}
COMPANY_STEMS = _words(
    "Nordwind Bluefield Castellan Helix Orion Albatross Brightwater Calder Dunmore "
    "Eastgate Falkner Greystone Harbourline Ivory Juniper Kingsbridge Lindqvist "
    "Meridian Northgate Oakridge Pellucid Quayside Riverton Solano Tessera Umbra "
    "Valmont Westmark Xanthe Yellowpine Zephyr Arcadia Beaumont Corvus Delphine "
    "Elmhurst Fjordline Granite Halcyon Isenberg Jadestone Karsten Larkspur Montclair "
    "Nimbus Oberon Pinecrest Quillon Redwood Silverlake Thornbury Ulster Verdant "
    "Whitmore Alder Birchwood Cobalt Driftwood Emberly Foxglove Goldcrest Heron "
    "Inverness Jasper Kestrelhall Lumen Marlow Nettlefield Osprey Peregrine Quartz "
    "Rosemoor Saffron Tidewater Upland Vantage Wexford Azure Basalt Cedar Dovetail "
    "Everest Fairhaven Glenmore Highmoor Ironbark Kilnworth Lakeshore Millstone "
    "Norrland Oxbow Pemberly Rainier Stonebridge Trident Uppsala Vireo Windrose Aurora "
    "Baltica Carrow Danube Estuary Firthview Galloway Hollis Ibex Jorvik Kairos Lantern "
    "Moorfield Nexa Ostara Prism Riviera Sable Tamsin Unity Vela Wyvern"
)
LEGAL_FORMS = {
    "GB": ("Ltd", "plc", "Ltd"),
    "US": ("Inc.", "LLC", "Corp."),
    "DE": ("GmbH", "AG", "GmbH & Co. KG"),
    "FR": ("SAS", "SA", "SARL"),
    "NL": ("B.V.", "N.V.", "B.V."),
    "ES": ("S.L.", "S.A.", "S.L."),
    "IT": ("S.r.l.", "S.p.A.", "S.r.l."),
    "PT": ("Lda.", "S.A.", "Lda."),
    "PL": ("Sp. z o.o.", "S.A.", "Sp. z o.o."),
    "SE": ("AB", "AB", "AB"),
    "DK": ("A/S", "ApS", "A/S"),
    "IN": ("Pvt. Ltd.", "Ltd.", "Pvt. Ltd."),
    "CN": ("Co., Ltd.", "Co., Ltd.", "Ltd."),
    "JP": ("K.K.", "Co., Ltd.", "K.K."),
    "TR": ("A.Ş.", "Ltd. Şti.", "A.Ş."),
    "NG": ("Ltd", "Plc", "Ltd"),
    "IE": ("DAC", "Ltd", "plc"),
    "CZ": ("s.r.o.", "a.s.", "s.r.o."),
}
COUNTRY_NAMES = {
    "GB": "United Kingdom",
    "US": "United States",
    "DE": "Germany",
    "FR": "France",
    "NL": "Netherlands",
    "ES": "Spain",
    "IT": "Italy",
    "PT": "Portugal",
    "PL": "Poland",
    "SE": "Sweden",
    "DK": "Denmark",
    "IN": "India",
    "CN": "China",
    "JP": "Japan",
    "TR": "Türkiye",
    "NG": "Nigeria",
    "IE": "Ireland",
    "CZ": "Czechia",
}
# Where the rep sells: most accounts are European, a few further away.
COUNTRY_WEIGHTS = (
    ("DE", 18),
    ("GB", 14),
    ("NL", 9),
    ("FR", 9),
    ("US", 8),
    ("ES", 6),
    ("IT", 6),
    ("SE", 5),
    ("DK", 4),
    ("PL", 4),
    ("IE", 4),
    ("PT", 3),
    ("CZ", 3),
    ("IN", 2),
    ("TR", 2),
    ("JP", 1),
    ("CN", 1),
    ("NG", 1),
)
CITIES = {
    "GB": ("London", "Manchester", "Leeds", "Bristol", "Edinburgh"),
    "US": ("Boston", "Chicago", "Austin", "Seattle", "Denver"),
    "DE": ("Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main"),
    "FR": ("Paris", "Lyon", "Toulouse", "Nantes", "Lille"),
    "NL": ("Amsterdam", "Rotterdam", "Utrecht", "Eindhoven", "Den Haag"),
    "ES": ("Madrid", "Barcelona", "Valencia", "Sevilla", "Bilbao"),
    "IT": ("Milano", "Torino", "Bologna", "Roma", "Firenze"),
    "PT": ("Lisboa", "Porto", "Braga", "Coimbra", "Aveiro"),
    "PL": ("Warszawa", "Kraków", "Wrocław", "Gdańsk", "Poznań"),
    "SE": ("Stockholm", "Göteborg", "Malmö", "Uppsala", "Linköping"),
    "DK": ("København", "Aarhus", "Odense", "Aalborg", "Esbjerg"),
    "IN": ("Bengaluru", "Mumbai", "Pune", "Hyderabad", "Chennai"),
    "CN": ("Shanghai", "Shenzhen", "Suzhou", "Hangzhou", "Beijing"),
    "JP": ("Tokyo", "Osaka", "Yokohama", "Nagoya", "Fukuoka"),
    "TR": ("İstanbul", "Ankara", "İzmir", "Bursa", "Antalya"),
    "NG": ("Lagos", "Abuja", "Port Harcourt", "Ibadan", "Kano"),
    "IE": ("Dublin", "Cork", "Galway", "Limerick", "Waterford"),
    "CZ": ("Praha", "Brno", "Ostrava", "Plzeň", "Olomouc"),
}
STREETS = (
    "Harbour Street",
    "Mill Lane",
    "Station Road",
    "Market Square",
    "Riverside",
    "Canal Walk",
    "Old Quay",
    "Park Avenue",
    "Bridge Street",
    "Kingsway",
    "Foundry Row",
    "Linden Allee",
    "Rue du Port",
    "Calle Mayor",
    "Via Roma",
    "Havnegade",
    "Storgatan",
)
COMPANY_TAGS = ("key-account", "reference-customer", "partner", "at-risk", "public-sector")
COMPANY_ABOUT = (
    "{industry} group with {employees} people; finance runs centrally from {city}.",
    "Family-owned, {employees} employees. Decisions go through the owner's office.",
    "Growing fast after two acquisitions; integrating systems is their big project.",
    "Long-time {competitor} customer; contract up for renewal next year.",
    "Public tender rules apply: every purchase above the threshold goes to tender.",
    "Subsidiary of a larger group; budget approval sits with the parent.",
)

# Fictional telephone ranges (Ofcom drama numbers; NANP 555-01XX).
UK_DRAMA_RANGES = (
    ("+44 20 7946 ", 0, 1000, 4),
    ("+44 113 496 ", 0, 1000, 4),
    ("+44 161 496 ", 0, 1000, 4),
    ("+44 121 496 ", 0, 1000, 4),
    ("+44 131 496 ", 0, 1000, 4),
    ("+44 117 496 ", 0, 1000, 4),
    ("+44 7700 900", 0, 1000, 3),
    ("+44 1632 960", 0, 1000, 3),
    ("+44 29 2018 ", 0, 1000, 4),
    ("+44 141 496 ", 0, 1000, 4),
    ("+44 151 496 ", 0, 1000, 4),
    ("+44 191 498 ", 0, 1000, 4),
)
US_AREA_CODES = ("212", "415", "312", "617", "206", "512", "303", "404", "202", "305")

REVIEW_SENDERS = (
    ("Jonas Weber", "jonas.weber@freelance-jw.example", "Quick question about your API"),
    ("Events Team", "events@expo-hall-berlin.example", "Exhibitor pack: FinOps Summit 2026"),
    ("Clara Mendes", "clara.mendes@talentbridge.example", "Opportunity: Head of Sales EMEA"),
    ("Ravi Shankar", "ravi@shankar-consulting.example", "Partnership idea"),
    ("Ingrid Holm", "ingrid.holm@nordhavn-ventures.example", "Intro via Lena"),
    ("Mia Schubert", "m.schubert@schubert-logistik.test", "Re: your talk in Rotterdam"),
    ("Paulo Reis", "paulo.reis@atlantico-foods.test", "Request for a demo"),
    ("Kim Fraser", "kim@fraser-advisory.example", "Following up from the webinar"),
    ("Hana Kobayashi", "hana.kobayashi@sakura-trade.example", "Distributor enquiry"),
    ("Dev Mehta", "dev.mehta@pipelinepros.test", "Lead list for your region"),
)
