"""Small word lists for the rule-based entity recognizer: countries, major cities and regions,
common given names, titles and organisation words. Deliberately short: a hint, not a knowledge
base; a name not listed here is still found, only typed less precisely."""

from __future__ import annotations

COUNTRIES = """Afghanistan|Albania|Algeria|Andorra|Angola|Argentina|Armenia|Australia|Austria|
Azerbaijan|Bahamas|Bahrain|Bangladesh|Barbados|Belarus|Belgium|Belize|Benin|Bhutan|Bolivia|
Bosnia and Herzegovina|Botswana|Brazil|Brunei|Bulgaria|Burkina Faso|Burundi|Cambodia|Cameroon|
Canada|Cape Verde|Chad|Chile|China|Colombia|Comoros|Congo|Costa Rica|Croatia|Cuba|Cyprus|
Czech Republic|Czechia|Denmark|Djibouti|Dominica|Dominican Republic|Ecuador|Egypt|El Salvador|
England|Eritrea|Estonia|Eswatini|Ethiopia|Fiji|Finland|France|Gabon|Gambia|Georgia|Germany|
Ghana|Greece|Grenada|Guatemala|Guinea|Guyana|Haiti|Honduras|Hungary|Iceland|India|Indonesia|
Iran|Iraq|Ireland|Israel|Italy|Ivory Coast|Jamaica|Japan|Jordan|Kazakhstan|Kenya|Kiribati|
Kosovo|Kuwait|Kyrgyzstan|Laos|Latvia|Lebanon|Lesotho|Liberia|Libya|Liechtenstein|Lithuania|
Luxembourg|Madagascar|Malawi|Malaysia|Maldives|Mali|Malta|Mauritania|Mauritius|Mexico|Moldova|
Monaco|Mongolia|Montenegro|Morocco|Mozambique|Myanmar|Namibia|Nauru|Nepal|Netherlands|
New Zealand|Nicaragua|Niger|Nigeria|North Korea|North Macedonia|Norway|Oman|Pakistan|Palau|
Palestine|Panama|Papua New Guinea|Paraguay|Peru|Philippines|Poland|Portugal|Qatar|Romania|
Russia|Rwanda|Samoa|San Marino|Saudi Arabia|Scotland|Senegal|Serbia|Seychelles|Sierra Leone|
Singapore|Slovakia|Slovenia|Somalia|South Africa|South Korea|South Sudan|Spain|Sri Lanka|Sudan|
Suriname|Sweden|Switzerland|Syria|Taiwan|Tajikistan|Tanzania|Thailand|Togo|Tonga|Tunisia|
Turkey|Turkmenistan|Tuvalu|Uganda|Ukraine|United Arab Emirates|United Kingdom|United States|
United States of America|Uruguay|Uzbekistan|Vanuatu|Vatican City|Venezuela|Vietnam|Wales|
Yemen|Zambia|Zimbabwe|USA|UK|UAE"""

PLACES = """Africa|Asia|Europe|North America|South America|Antarctica|Oceania|Amsterdam|Athens|
Atlanta|Auckland|Baghdad|Bangkok|Barcelona|Beijing|Berlin|Bern|Bogota|Boston|Brussels|
Bucharest|Budapest|Buenos Aires|Cairo|Calcutta|Cape Town|Chicago|Copenhagen|Dallas|Delhi|
Dhaka|Dubai|Dublin|Edinburgh|Florence|Frankfurt|Geneva|Glasgow|Hamburg|Hanoi|Havana|Helsinki|
Hong Kong|Houston|Istanbul|Jakarta|Jerusalem|Johannesburg|Kabul|Karachi|Kyiv|Kiev|Kolkata|
Lagos|Las Vegas|Lima|Lisbon|London|Los Angeles|Lyon|Madrid|Manchester|Manila|Marseille|
Melbourne|Mexico City|Miami|Milan|Montreal|Moscow|Mumbai|Munich|Nairobi|Naples|New Delhi|
New York|New York City|Oslo|Ottawa|Oxford|Cambridge|Paris|Philadelphia|Prague|Rio de Janeiro|
Riyadh|Rome|San Francisco|Santiago|Sao Paulo|Seattle|Seoul|Shanghai|Singapore|St Petersburg|
Stockholm|Sydney|Taipei|Tehran|Tel Aviv|Tokyo|Toronto|Vancouver|Venice|Vienna|Warsaw|
Washington|Zurich|California|Texas|Florida|Bavaria|Siberia|Sahara|Amazon|Alps|Himalayas|
Mediterranean|Atlantic|Pacific|Thames|Danube|Rhine|Nile"""

GIVEN_NAMES = """Ada|Adam|Alan|Albert|Alex|Alice|Amelia|Ana|Andrew|Angela|Anna|Anne|Barack|
Ben|Benjamin|Bill|Bob|Carl|Carlos|Caroline|Catherine|Charles|Charlotte|Chris|Christopher|
Claire|Daniel|David|Donald|Edward|Elizabeth|Ella|Emily|Emma|Eric|Frank|Franz|Fran\u00e7ois|
Frederick|George|Grace|Hannah|Harry|Helen|Henry|Isaac|Isabella|Jack|Jacob|James|Jane|Jean|
Jennifer|Joe|John|Joseph|Julia|Karl|Kate|Laura|Leonardo|Linda|Lisa|Louis|Lucy|Maria|Marie|
Mark|Mary|Matthew|Michael|Mohammed|Muhammad|Nancy|Nicholas|Olivia|Oscar|Paul|Peter|Rachel|
Richard|Robert|Sam|Samuel|Sarah|Sophia|Sophie|Steve|Steven|Susan|Thomas|Tim|Tom|Victoria|
Vincent|Virginia|Walter|William|Wolfgang"""

TITLES = """Mr|Mrs|Ms|Miss|Dr|Prof|Professor|Sir|Dame|Lady|Lord|King|Queen|Prince|Princess|
President|Senator|Judge|Saint|St|Pope|Captain|General|Mayor|Minister"""

ORGANISATION_WORDS = """Inc|Ltd|LLC|Corp|Corporation|Company|Co|Group|GmbH|AG|SA|PLC|Bank|
University|College|Institute|Academy|School|Society|Association|Foundation|Council|Committee|
Agency|Ministry|Department|Parliament|Party|Union|Club|Museum|Hospital|Airlines|Press|Times|
News|Laboratories|Labs|Technologies|Systems|Federation|Organisation|Organization|Church"""

MONTHS = """January|February|March|April|May|June|July|August|September|October|November|
December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"""

WEEKDAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"

SENTENCE_WORDS = """The|A|An|In|On|At|By|For|From|To|Of|And|But|Or|If|When|While|After|Before|
This|That|These|Those|It|Its|He|She|They|We|I|You|His|Her|Their|Our|My|Meanwhile|However|Then|
Today|Yesterday|Tomorrow|There|Here|As|With|Without|Also|Yet|So|Although|Because|Since|During|
Every|Each|Some|Many|Most|All|No|Not|Yes|Dear|Hello|Hi|Thanks|Please"""
"""Capitalised only because they start a sentence (or a greeting): never the start of a name."""


def words(listing: str) -> frozenset[str]:
    return frozenset(w.strip() for w in listing.replace("\n", "").split("|"))
