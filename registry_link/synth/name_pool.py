"""Name vocabulary of the synthetic registry: Moroccan given and family names, communes.

Each table row is ``weight | Arabic spelling | French-style spelling(s)``; the first Latin
spelling is the usual one, the others are attested alternatives (Mohamed/Mohammed/Mohammad,
Youssef/Youcef, Fatima Zahra/Fatimazahra, El Alaoui/Alaoui, Aït/Ait, Ben Ali/Benali ...).
Weights are Zipf-like by rank (``100000 / rank**s``; s = 1 for given names, 0.85 for family
names, the top given names boosted) so that "Mohamed", "Fatima", "Khadija", "Alaoui",
"Idrissi" ... are very common and many people share the same name and birth year.

Communes: ``population (thousands, rounded) | Latin name | Arabic name | CIN prefixes``. The
prefixes have the real shape (1-2 letters, first letter by region) but the commune -> prefix
mapping is illustrative, not an official table.

Only vocabulary lives here: no person, real or synthetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Final

import numpy as np
import polars as pl


@dataclass(frozen=True)
class Name:
    """One name of the vocabulary."""

    arabic: str
    latin: tuple[str, ...]  # usual spelling first
    weight: int


@dataclass(frozen=True)
class Commune:
    """One commune: Latin and Arabic names, CIN prefixes and a population weight."""

    latin: str
    arabic: str
    cin_prefixes: tuple[str, ...]
    weight: int


_MALE: Final[str] = """
120000 | محمد | Mohamed, Mohammed, Mohammad, Mhamed, Mouhamed
 50000 | أحمد | Ahmed, Ahmad
 33333 | عبد الله | Abdellah, Abdallah, Abdelah
 25000 | يوسف | Youssef, Youcef, Yousef, Youssouf
 20000 | مصطفى | Mustapha, Mostafa, Moustapha, Mustafa
 16667 | الحسن | Lahcen, Lahsen, El Hassan
 14286 | سعيد | Said, Saïd, Saaid
 12500 | رشيد | Rachid, Rashid
 11111 | خالد | Khalid, Khaled
 10000 | إبراهيم | Brahim, Ibrahim
  9091 | عبد الرحيم | Abderrahim, Abderahim, Abdurrahim
  8333 | عبد العزيز | Abdelaziz, Abdel Aziz
  7692 | عمر | Omar, Oumar
  7143 | علي | Ali
  6667 | إدريس | Driss, Idriss, Idris
  6250 | حسن | Hassan, Hasan
  5882 | عبد اللطيف | Abdellatif, Abdelatif
  5556 | عبد الرحمان | Abderrahmane, Abderrahman, Abderahmane
  5263 | عبد السلام | Abdeslam, Abdessalam, Abdesslam
  5000 | المهدي | Mehdi, El Mehdi
  4762 | أيوب | Ayoub, Ayyoub
  4545 | حمزة | Hamza
  4348 | أمين | Amine, Amin
  4167 | ياسين | Yassine, Yacine, Yasine
  4000 | عادل | Adil, Adel
  3846 | هشام | Hicham, Hisham
  3704 | نور الدين | Noureddine, Nourdine, Nour-Eddine, Nour Eddine
  3571 | عبد الكريم | Abdelkrim, Abdelkarim
  3448 | عبد الحق | Abdelhak, Abdelhaq
  3333 | جمال | Jamal, Djamal
  3226 | كمال | Kamal
  3125 | الحسين | Lhoussine, Houssine, El Houssaine, Houcine
  3030 | عبد القادر | Abdelkader, Abdelkadir
  2941 | عبد الجليل | Abdeljalil
  2857 | عبد الغني | Abdelghani
  2778 | عبد الحميد | Abdelhamid
  2703 | عبد المجيد | Abdelmajid, Abdelmajide
  2632 | عبد الواحد | Abdelouahed, Abdelwahed
  2564 | عبد الهادي | Abdelhadi
  2500 | عبد الإله | Abdelilah, Abdellilah
  2439 | عبد الصمد | Abdessamad, Abdessamade
  2381 | عبد الفتاح | Abdelfattah, Abdelfatah
  2326 | عبد الرزاق | Abderrazak, Abderrazzak, Abderrazaq
  2273 | عبد النبي | Abdennabi, Abdenbi
  2222 | عبد المالك | Abdelmalek, Abdelmalik
  2174 | عبد الحكيم | Abdelhakim
  2128 | عبد العالي | Abdelali
  2083 | نبيل | Nabil
  2041 | سمير | Samir
  2000 | كريم | Karim
  1961 | طارق | Tarik, Tariq
  1923 | أنس | Anas
  1887 | زكرياء | Zakaria, Zakariya, Zakariae
  1852 | إسماعيل | Ismail, Smail, Ismael
  1818 | العربي | Larbi, El Arbi
  1786 | الطيب | Tayeb, Taieb, Taïeb
  1754 | الحبيب | Habib, Lahbib
  1724 | الجيلالي | Jilali, Jillali, Djilali
  1695 | بوشعيب | Bouchaib, Bouchaïb
  1667 | العياشي | Layachi, El Ayachi
  1639 | الميلودي | Miloudi, El Miloudi
  1613 | الهاشمي | Hachmi, El Hachmi
  1587 | التهامي | Touhami, Thami
  1562 | المختار | Mokhtar, El Mokhtar
  1538 | المعطي | Maati, El Maati
  1515 | الغالي | Ghali, El Ghali
  1493 | المكي | Mekki, El Mekki
  1471 | الصديق | Seddik, Saddik
  1449 | بوجمعة | Boujemaa, Boujemâa
  1429 | محمد أمين | Mohamed Amine, Mohammed Amine
  1408 | محمد علي | Mohamed Ali, Mohammed Ali
  1389 | أسامة | Oussama, Ossama, Usama
  1370 | بلال | Bilal
  1351 | إلياس | Ilyas, Ilias, Elias
  1333 | آدم | Adam
  1316 | ريان | Rayane, Rayan
  1299 | وليد | Walid, Oualid
  1282 | سفيان | Soufiane, Sofiane
  1266 | مروان | Marouane, Marwane, Marwan
  1250 | عثمان | Othmane, Otmane, Osmane
  1235 | زهير | Zouhair, Zouheir
  1220 | منير | Mounir
  1205 | نجيب | Najib
  1190 | فؤاد | Fouad
  1176 | عزيز | Aziz
  1163 | حميد | Hamid
  1149 | مجيد | Majid
  1136 | سعد | Saad
  1124 | صلاح الدين | Salaheddine, Salah-Eddine, Salah Eddine
  1111 | عز الدين | Azeddine, Ezzeddine, Azzedine
  1099 | بدر الدين | Badreddine, Badr-Eddine
  1087 | شمس الدين | Chamseddine, Chams-Eddine
  1075 | خير الدين | Khaireddine
  1064 | جلال | Jalal
  1053 | عماد | Imad
  1042 | فيصل | Faissal, Fayçal, Faysal
  1031 | يونس | Younes, Younès, Younesse
  1020 | مراد | Mourad
  1010 | رضوان | Redouane, Ridouane, Radouane
  1000 | محسن | Mohcine, Mohsine
   990 | ياسر | Yassir, Yasser
   980 | عصام | Issam
   971 | هاشم | Hachem
   962 | الصغير | Sghir, Esseghir
   952 | بناصر | Bennaceur, Benacer
   943 | بوعزة | Bouazza
   935 | مبارك | Mbarek, Moubarak
   926 | مسعود | Messaoud
   917 | ميمون | Mimoun
   909 | موحى | Moha
   901 | حماد | Hammad, Hmad
   893 | حمو | Hammou
   885 | علال | Allal
   877 | قدور | Kaddour
   870 | جواد | Jaouad, Jawad
   862 | توفيق | Taoufik, Tawfik, Toufik
   855 | رفيق | Rafik
   847 | شكيب | Chakib
   840 | عبد الرؤوف | Abderraouf, Abdelraouf
   833 | نعيم | Naim, Naïm
   826 | ربيع | Rabii, Rabie
   820 | أشرف | Achraf
   813 | أنور | Anouar, Anwar
   806 | يحيى | Yahya, Yahia
   800 | صالح | Salah, Saleh
   794 | فاروق | Farouk
   787 | هارون | Haroun
   781 | لقمان | Lokmane, Loqmane
   775 | سليمان | Soulaimane, Slimane, Soulaiman
   769 | داود | Daoud
   763 | موسى | Moussa
   758 | عيسى | Aissa, Issa
   752 | نوفل | Naoufal, Nawfal
   746 | وائل | Wail, Wael
   741 | زياد | Ziad
   735 | معاذ | Mouad, Mouaad
   730 | أيمن | Aymane, Ayman
   725 | أكرم | Akram
   719 | حكيم | Hakim
   714 | خليل | Khalil
   709 | صابر | Saber
   704 | عبد الناصر | Abdennasser, Abdenasser
   699 | ناصر | Nasser, Naceur
   694 | منصور | Mansour
   690 | سلمان | Salmane, Salman
   685 | طه | Taha
   680 | عبد الجبار | Abdeljabbar
   676 | عبد الغفور | Abdelghafour
   671 | عبد الكبير | Abdelkbir, Abdelkebir
   667 | المحجوب | Mahjoub, El Mahjoub
   662 | الطاهر | Tahar, Taher
   658 | بوبكر | Boubker, Boubakr
   654 | البشير | Bachir, Lbachir
   649 | الشرقي | Cherki, Charki
   645 | الراضي | Radi
   641 | امحمد | M'hamed, Mhammed
   637 | عبد الوهاب | Abdelouahab, Abdelwahab
   633 | عبد الخالق | Abdelkhalek
   629 | عبد المولى | Abdelmoula
   625 | عبد الباسط | Abdelbasset
   621 | عبد المنعم | Abdelmounaim, Abdelmoneim
   617 | عبد العظيم | Abdeladim, Abdelazim
   613 | عبد الرفيع | Abderrafie, Abderrafii
"""

_FEMALE: Final[str] = """
120000 | فاطمة | Fatima, Fatma
 50000 | خديجة | Khadija, Khadidja
 33333 | فاطمة الزهراء | Fatima Zahra, Fatimazahra, Fatima-Zahra, Fatim Zahra
 25000 | مريم | Meryem, Maryam, Meriem, Mariam
 20000 | عائشة | Aicha, Aïcha, Aisha
 16667 | زينب | Zineb, Zaynab, Zeinab
 14286 | نعيمة | Naima, Naïma
 12500 | سعاد | Souad
 11111 | حنان | Hanane, Hanan
 10000 | نادية | Nadia
  9091 | رشيدة | Rachida
  8333 | سميرة | Samira
  7692 | لطيفة | Latifa
  7143 | مليكة | Malika
  6667 | حليمة | Halima
  6250 | الزهرة | Zahra, Zohra, Ezzahra
  5882 | أمينة | Amina
  5556 | نجاة | Najat
  5263 | ليلى | Leila, Laila, Layla
  5000 | سناء | Sanaa, Sana
  4762 | إيمان | Imane, Iman
  4545 | هدى | Houda, Hoda
  4348 | سلمى | Salma
  4167 | سارة | Sara, Sarah
  4000 | هاجر | Hajar
  3846 | أسماء | Asmaa, Asma
  3704 | كوثر | Kaoutar, Kawtar
  3571 | وفاء | Wafae, Wafaa
  3448 | نوال | Nawal
  3333 | حفيظة | Hafida
  3226 | حفصة | Hafsa
  3125 | رقية | Rkia, Rokaya, Rokia
  3030 | يامنة | Yamna
  2941 | البتول | Batoul, El Batoul
  2857 | ربيعة | Rabia, Rabiaa
  2778 | زهور | Zhor, Zohour
  2703 | فتيحة | Fatiha
  2632 | خدوج | Khaddouj, Kheddouj
  2564 | عزيزة | Aziza
  2500 | جميلة | Jamila
  2439 | كريمة | Karima
  2381 | نزهة | Nezha, Nouzha
  2326 | بشرى | Bouchra, Bushra
  2273 | سهام | Siham
  2222 | إلهام | Ilham
  2174 | غزلان | Ghizlane, Ghizlan
  2128 | حياة | Hayat
  2083 | دنيا | Dounia, Donia
  2041 | نجوى | Najwa
  2000 | ياسمين | Yasmine, Yasmina
  1961 | صفاء | Safae, Safaa
  1923 | مروة | Marwa, Maroua
  1887 | شيماء | Chaimae, Chaima, Shaimaa
  1852 | إكرام | Ikram
  1818 | أميمة | Oumaima, Oumaïma, Omaima
  1786 | خولة | Khaoula, Khawla
  1754 | لبنى | Loubna, Lubna
  1724 | مونية | Mounia
  1695 | نورة | Noura
  1667 | نور | Nour
  1639 | هند | Hind
  1613 | وداد | Widad, Ouidad
  1587 | سلوى | Salwa
  1562 | رجاء | Rajae, Rajaa
  1538 | سكينة | Soukaina, Sakina, Soukayna
  1515 | زكية | Zakia
  1493 | رحمة | Rahma
  1471 | منى | Mouna, Mona
  1449 | نسرين | Nisrine, Nesrine
  1429 | ابتسام | Ibtissam, Ibtisam
  1408 | فوزية | Fouzia, Faouzia
  1389 | مينة | Mina
  1370 | حسناء | Hasnaa, Hasna
  1351 | جليلة | Jalila
  1333 | عتيقة | Atika, Atiqa
  1316 | ميلودة | Milouda
  1299 | الغالية | Ghalia
  1282 | الضاوية | Daouia
  1266 | العالية | Alia, Laalia
  1250 | السعدية | Saadia, Saâdia
  1235 | المحجوبة | Mahjouba
  1220 | فاطنة | Fatna
  1205 | هنية | Hnia, Haniya
  1190 | تودة | Touda
  1176 | إيطو | Itto
  1163 | مباركة | Mbarka
  1149 | مسعودة | Messaouda
  1136 | حادة | Hadda
  1124 | الشعيبية | Chaibia
  1111 | زبيدة | Zoubida
  1099 | بهيجة | Bahija
  1087 | خيرة | Kheira
  1075 | حورية | Houria, Hourya
  1064 | سعيدة | Saida, Saïda
  1053 | فريدة | Farida
  1042 | وردة | Warda, Ouarda
  1031 | ثورية | Touria, Thouria
  1020 | بديعة | Badia
  1010 | صباح | Sabah
  1000 | نبيلة | Nabila
   990 | لمياء | Lamia, Lamiaa
   980 | نهى | Nouha
   971 | رانيا | Rania
   962 | آية | Aya
   952 | ملاك | Malak
   943 | آلاء | Alae, Alaa
   935 | إسراء | Israe, Israa
   926 | هبة | Hiba
   917 | آسية | Assia, Asiya
   909 | سمية | Soumia, Soumaya
   901 | رحاب | Rihab
   893 | سهيلة | Souhaila
   885 | نسيمة | Nassima
   877 | ضحى | Douha
   870 | ريم | Rim, Reem
   862 | إيناس | Inass, Ines
   855 | كنزة | Kenza
   847 | لينا | Lina
   840 | جيهان | Jihane
   833 | نجلاء | Najlae, Najlaa
   826 | فدوى | Fadoua, Fadwa
   820 | أمال | Amal
   813 | بثينة | Boutaina, Bouthaina
   806 | يسرى | Yousra, Yosra
   800 | عفاف | Afaf
   794 | غيثة | Ghita
   787 | دعاء | Douae, Doaa
   781 | وئام | Wiam
   775 | ابتهال | Ibtihal
"""

_FAMILY: Final[str] = """
100000 | العلوي | Alaoui, El Alaoui, Elalaoui
 55478 | الإدريسي | Idrissi, El Idrissi, Elidrissi
 39305 | بنعلي | Benali, Ben Ali, Ben-Ali
 30779 | بناني | Bennani, Benani
 25461 | العمراني | El Amrani, Amrani, Lamrani, Elamrani
 21806 | التازي | Tazi, Ettazi
 19128 | الفاسي | El Fassi, Fassi, Elfassi
 17076 | برادة | Berrada, Berada
 15449 | الشرقاوي | Cherkaoui, Charkaoui, Echcherkaoui
 14125 | بنجلون | Benjelloun, Ben Jelloun, Benjeloun
 13026 | الوزاني | Ouazzani, El Ouazzani, Wazzani
 12098 | الحسني | Hassani, El Hassani
 11302 | العلمي | Alami, El Alami, Elalami
 10612 | الكتاني | Kettani, El Kettani
 10007 | الرحماني | Rahmani, Errahmani
  9473 | الزياني | Ziani, Zayani
  8997 | السوسي | Soussi, Essoussi
  8571 | المراكشي | Marrakchi, El Marrakchi
  8186 | الدكالي | Doukkali, Dokkali
  7837 | الشاوي | Chaoui, Echaoui
  7518 | بنموسى | Benmoussa, Ben Moussa
  7227 | بنسعيد | Bensaid, Ben Said, Bensaïd
  6959 | بنعمر | Benomar, Ben Omar
  6712 | بنعبد الله | Benabdellah, Ben Abdellah
  6483 | بنكيران | Benkirane, Ben Kirane
  6270 | بنشقرون | Benchekroun, Ben Chekroun
  6072 | بنيس | Bennis, Benis
  5887 | بنعيسى | Benaissa, Ben Aissa
  5714 | بنصالح | Bensalah, Ben Salah
  5552 | بنإبراهيم | Benbrahim, Ben Brahim
  5399 | بنأحمد | Benahmed, Ben Ahmed
  5256 | بنمحمد | Benmohamed, Ben Mohamed
  5120 | بنمنصور | Benmansour, Ben Mansour
  4992 | بنشريف | Bencherif, Ben Cherif
  4870 | بنيحيى | Benyahya, Ben Yahya
  4755 | آيت علي | Ait Ali, Aït Ali, Aitali
  4645 | آيت الحاج | Ait El Haj, Aït El Haj, Ait Lhaj
  4541 | آيت موسى | Ait Moussa, Aït Moussa
  4442 | آيت إبراهيم | Ait Brahim, Aït Brahim
  4348 | آيت سعيد | Ait Said, Aït Saïd
  4257 | آيت أحمد | Ait Ahmed, Aït Ahmed
  4171 | آيت عبد الله | Ait Abdellah, Aït Abdellah
  4088 | آيت الطالب | Ait Taleb, Aït Taleb
  4009 | آيت حمو | Ait Hammou, Aït Hammou
  3933 | آيت لحسن | Ait Lahcen, Aït Lahcen
  3861 | آيت عمر | Ait Omar, Aït Omar
  3791 | آيت يوسف | Ait Youssef, Aït Youssef
  3723 | آيت مبارك | Ait Mbarek, Aït Mbarek
  3659 | الصقلي | Sqalli, Skalli
  3596 | المريني | Merini, El Merini
  3536 | الحسيني | Housseini, El Housseini, Husseini
  3479 | الريفي | Rifi, Errifi
  3423 | الرباطي | Rbati, Errbati
  3369 | الطنجاوي | Tanjaoui
  3317 | العبدي | Abdi, El Abdi
  3266 | الزموري | Zemmouri, Zammouri
  3217 | الحياني | Hayani, El Hayani
  3170 | الغزواني | Ghazouani, El Ghazouani
  3124 | بنسودة | Bensouda
  3080 | بنزاكور | Benzakour
  3037 | بنحدو | Benhaddou
  2995 | بنحمو | Benhammou
  2955 | بنعزوز | Benazzouz
  2916 | بوزيان | Bouziane
  2878 | البوعزاوي | Bouazzaoui, El Bouazzaoui
  2840 | بوطيب | Boutayeb
  2804 | بوشيخي | Bouchikhi
  2769 | البوزيدي | Bouzidi, El Bouzidi
  2735 | أوحمو | Ouhammou
  2702 | أمزيان | Amziane
  2670 | أمزيل | Amzil
  2638 | أوعلي | Ouali, Oualli
  2607 | الخياط | Khayat, El Khayat, Elkhayat
  2577 | الحداد | Haddad, El Haddad
  2548 | النجار | Najjar, En-Najjar, Ennajjar
  2519 | الصباغ | Sabbagh, Essabbagh
  2492 | الدباغ | Debbagh, Dabbagh
  2464 | العطار | Attar, El Attar
  2438 | الفلاحي | Fellahi, El Fellahi
  2412 | البقالي | Bakkali, El Bakkali
  2387 | الخراز | Kharraz, El Kharraz
  2362 | الطاهري | Tahiri, Et-Tahiri, Ettahiri
  2338 | الطالبي | Talbi, Et-Talbi, Ettalbi
  2314 | الصالحي | Salhi, Essalhi
  2291 | الكريمي | Karimi, El Karimi
  2268 | الحميدي | Hamidi, El Hamidi
  2246 | السعيدي | Saidi, Essaidi, Es-Saidi
  2224 | المحمدي | Mohammadi, El Mohammadi, Mohamadi
  2203 | الأحمدي | Ahmadi, El Ahmadi
  2182 | العزيزي | Azizi, El Azizi
  2162 | الرشيدي | Rachidi, Errachidi
  2142 | الكبير | Kabir, El Kabir
  2122 | الصغير | Seghir, Esseghir
  2103 | اليوسفي | Youssfi, El Youssfi, Youssefi
  2084 | الإبراهيمي | Brahimi, El Brahimi, Ibrahimi
  2066 | العثماني | Othmani, El Othmani
  2048 | البكري | Bakri, El Bakri
  2030 | الجابري | Jabri, El Jabri
  2012 | الزهراوي | Zahraoui, Ez-Zahraoui
  1995 | العمري | Amri, El Amri, Omari
  1978 | المنصوري | Mansouri, El Mansouri
  1962 | الناصري | Naciri, Nasiri, En-Naciri
  1946 | المرابط | Mrabet, El Mrabet
  1930 | الزروالي | Zerouali, Ez-Zerouali
  1914 | الجزولي | Jazouli, El Jazouli
  1899 | التوزاني | Touzani, Et-Touzani
  1884 | الفيلالي | Filali, El Filali
  1869 | السباعي | Sbai, Essbai, Sebbai
  1854 | الحمداوي | Hamdaoui, El Hamdaoui
  1840 | الشاذلي | Chadli, Echadli
  1826 | الدرقاوي | Derkaoui, Darkaoui
  1812 | القاسمي | Kasmi, Qasmi, El Kasmi
  1798 | القادري | Kadiri, Qadiri, El Kadiri
  1785 | الكنوني | Guennouni, Kennouni
  1772 | التجاني | Tijani, Tidjani, Ettijani
  1759 | الشرايبي | Chraibi, Echraibi
  1746 | العراقي | Iraki, El Iraki, Laraki
  1733 | الصفريوي | Sefrioui
  1721 | المكناسي | Meknassi, El Meknassi
  1709 | السلاوي | Slaoui, Esslaoui
  1697 | الشفشاوني | Chefchaouni
  1685 | التطواني | Tetouani
  1673 | الوجدي | Oujdi
  1662 | الصحراوي | Sahraoui, Essahraoui
  1651 | الجبلي | Jebli, El Jebli
  1639 | الإسماعيلي | Ismaili, El Ismaili
  1628 | الأزهري | Azhari, El Azhari
  1618 | الأنصاري | Ansari, El Ansari
  1607 | الأندلسي | Andaloussi, El Andaloussi
  1596 | الحريري | Hariri, El Hariri
  1586 | الهلالي | Hilali, El Hilali
  1576 | الخطابي | Khattabi, El Khattabi
  1566 | الخلفي | Khalfi, El Khalfi
  1556 | الرامي | Rami, Errami
  1546 | الراشدي | Rachdi, Errachdi
  1536 | الرايس | Raiss, Erraiss
  1527 | الزين | Zine, Ezzine
  1517 | الزاهري | Zahiri, Ezzahiri
  1508 | السراج | Serraj, Sarraj, Esserraj
  1499 | الشامي | Chami, Echami
  1490 | الشيخ | Cheikh, Echcheikh
  1481 | الصنهاجي | Senhaji, Sanhaji
  1472 | العبادي | Abbadi, El Abbadi
  1463 | العسري | Assri, El Assri
  1455 | الغماري | Ghomari, El Ghomari
  1446 | الفقير | Fakir, El Fakir
  1438 | المتوكل | Moutawakil, El Moutawakil
  1430 | المرنيسي | Mernissi
  1422 | الموساوي | Moussaoui, El Moussaoui
  1414 | الناجي | Naji, En-Naji
  1406 | الهواري | Houari, El Houari
  1398 | الوافي | Ouafi, El Ouafi
  1390 | اليعقوبي | Yacoubi, El Yacoubi, Yaakoubi
  1382 | حجي | Hajji, Haji
  1375 | عمراوي | Amraoui
  1367 | علوش | Allouch
  1360 | بلحاج | Belhaj, Bel Haj
  1353 | بلقاضي | Belkadi
  1345 | بلعربي | Belarbi, Bel Arbi
  1338 | بلخياط | Belkhayat
  1331 | بلحسن | Belhassan, Belhassen
  1324 | بلفقيه | Belfkih, Belfquih
  1317 | بلقزيز | Belkziz
  1310 | بلعيد | Belaid, Belaïd
  1304 | زروال | Zeroual
  1297 | شكري | Chokri, Choukri
  1290 | عزوزي | Azzouzi
  1284 | لحلو | Lahlou
  1277 | مزوار | Mezouar
  1271 | نجمي | Najmi
  1265 | الهاشمي | Hachimi, El Hachimi, Hachmi
  1258 | وهبي | Ouahbi, Wahbi
  1252 | يحياوي | Yahyaoui
  1246 | الحسناوي | Hasnaoui, El Hasnaoui
  1240 | السملالي | Semlali, Essemlali
  1234 | الجراري | Jirari, Jerrari
  1228 | الحجوي | Hajoui, El Hajoui
  1222 | الصبيحي | Sbihi
  1216 | الدمناتي | Demnati
  1211 | الزرهوني | Zerhouni
  1205 | الطيبي | Taibi, Et-Taibi
  1199 | الفاضلي | Fadili, El Fadili
  1194 | القباج | Kabbaj, Qabbaj
  1188 | المسفيوي | Mesfioui
  1183 | المودن | Moudden, El Moudden
  1177 | النظيفي | Nadifi, En-Nadifi
  1172 | الوكيلي | Oukili, El Oukili
  1167 | بنسليمان | Benslimane, Ben Slimane
  1161 | بنونة | Bennouna
  1156 | بنيوسف | Benyoussef, Ben Youssef
  1151 | بوعبيد | Bouabid
  1146 | التلمساني | Tlemcani, Tlemçani
  1141 | العيساوي | Aissaoui, El Aissaoui
  1136 | بادو | Badou
  1131 | الديوري | Diouri, Eddiouri
  1126 | السقاط | Sekkat
  1121 | الفاسي الفهري | Fassi Fihri, El Fassi Fihri
  1116 | المقري | Mokri, El Mokri
  1112 | المنوني | Menouni, Manouni, El Menouni
  1107 | أمغار | Amghar
  1102 | أوفقير | Oufkir
  1098 | أوبراهيم | Oubrahim
  1093 | أخنوش | Akhannouch
  1088 | الحمري | Hamri, El Hamri
  1084 | الحمراوي | Hamraoui
  1079 | الدحماني | Dahmani
  1075 | الرياحي | Riahi
  1071 | السعداوي | Saadaoui
  1066 | الطالب | Taleb, Ettaleb
  1062 | الغازي | Ghazi, El Ghazi
  1058 | العياشي | Ayachi, El Ayachi
  1053 | الميموني | Mimouni, El Mimouni
  1049 | المسعودي | Messaoudi, El Messaoudi
  1045 | المرزوقي | Marzouki, El Marzouki
  1041 | المباركي | Mbarki, El Mbarki
  1037 | التهامي | Touhami, Et-Touhami
  1033 | الحجاجي | Hajjaji, El Hajjaji
  1029 | الخمليشي | Khamlichi, El Khamlichi
  1025 | الخليفي | Khlifi, El Khlifi
  1021 | الرحالي | Rahhali, Errahhali
  1017 | الزيتوني | Zitouni, Ez-Zitouni
  1013 | السبتي | Sebti, Essebti
  1009 | السرغيني | Serghini, Sarghini
  1005 | الشرادي | Cherradi, Echcherradi
  1001 | الشتوكي | Chtouki
   998 | الصديقي | Seddiki, Sadiki, Es-Seddiki
   994 | العروي | Laroui, El Aroui
   990 | العباسي | Abbassi, El Abbassi
   987 | العبدلاوي | Abdellaoui, El Abdellaoui
   983 | الغرباوي | Gharbaoui, El Gharbaoui
   979 | القصيري | Ksiri, El Ksiri
   976 | المالكي | Malki, El Malki
   972 | المتقي | Mouttaki, El Mouttaki
   969 | المختاري | Mokhtari, El Mokhtari
   965 | المدني | Madani, El Madani
   962 | المرابطي | Mrabti, El Mrabti
   958 | المعروفي | Maaroufi, El Maaroufi
   955 | المغراوي | Maghraoui, El Maghraoui
   951 | المكاوي | Mekkaoui, El Mekkaoui
   948 | النوري | Nouri, En-Nouri
   945 | الوردي | Ouardi, El Ouardi
   941 | الودغيري | Oudghiri, El Oudghiri
   938 | اليزيدي | Yazidi, El Yazidi
   935 | بنعمار | Benammar, Ben Ammar
   932 | بنعيش | Benaich, Ben Aich
   928 | بنحمزة | Benhamza, Ben Hamza
   925 | بنقدور | Benkaddour, Ben Kaddour
   922 | بنطالب | Bentaleb, Ben Taleb
   919 | بنهيمة | Benhima
   916 | بنشمسي | Benchemsi
   913 | بنصديق | Benseddik
   910 | بوستة | Boucetta
   906 | بورقية | Bourquia
   903 | جسوس | Jessous
   900 | حصار | Hassar
   897 | داودي | Daoudi
   894 | زنيبر | Zniber
   892 | شقرون | Chekroun
   889 | صبري | Sabri
   886 | عزيمان | Azziman
   883 | فرحات | Farhat
   880 | كديرة | Guedira
   877 | كنون | Guennoun, Kennoun
   874 | لزرق | Lazrak
   871 | مزيان | Meziane
   869 | مسكيني | Meskini
   866 | الحجامي | Hajjami, El Hajjami
   863 | البيضاوي | Bidaoui, El Bidaoui
   860 | الصويري | Souiri, Essouiri
   858 | الجديدي | Jadidi, El Jadidi
   855 | الخطيب | Khatib, El Khatib
   852 | الفكيكي | Figuigui
   850 | البركاني | Berkani, El Berkani
   847 | الريسوني | Raissouni, Raïssouni
   844 | الخلوفي | Khaloufi, El Khaloufi
   842 | أوزين | Ouzine
   839 | أعراب | Aarab
   837 | أوشن | Ouchen
   834 | أمرابط | Amrabet
   832 | أبركان | Abarkan
   829 | الحسوني | Hassouni, El Hassouni
   827 | الدراوي | Draoui, Eddraoui
   824 | الخالدي | Khalidi, El Khalidi
   822 | السعدي | Saadi, Essaadi
   819 | بنعزيز | Benaziz, Ben Aziz
   817 | بنزيان | Benziane, Ben Ziane
   814 | العلوي المدغري | Alaoui Mdaghri, El Alaoui Mdaghri
   812 | الإدريسي القيطوني | Idrissi Kaitouni, El Idrissi Kaitouni
   810 | العلوي الإسماعيلي | Alaoui Ismaili, El Alaoui Ismaili
   807 | العمراني الجوطي | Amrani Joutei, El Amrani Joutei
   805 | بنعبد الجليل | Benabdeljalil, Ben Abdeljalil
   802 | الرحموني | Rahmouni, Errahmouni
   800 | السليماني | Slimani, Soulimani
   798 | الجوهري | Jaouhari, El Jaouhari
   796 | الجعفري | Jaafari, El Jaafari
   793 | الحمدوشي | Hamdouchi
   791 | العروسي | Aroussi, El Aroussi
   789 | البصري | Basri, El Basri
   786 | الروداني | Roudani, Erroudani
   784 | الغربي | Gharbi, El Gharbi
   782 | المسناوي | Mesnaoui
   780 | الطويل | Touil, Ettouil
   778 | الأشهب | Achhab, El Achhab
   775 | الصافي | Safi, Essafi
   773 | بوحسين | Bouhssine
   771 | بولعيش | Boulaich
   769 | الفتحي | Fathi, El Fathi
   767 | عبابو | Ababou
   765 | الكنسوسي | Kensoussi
   763 | المنصور | Mansour, El Mansour
   761 | البوعناني | Bouanani
   759 | القرشي | Kourachi, Korchi
   756 | الشعيبي | Chouaibi
   754 | الإدريسي الحسني | Idrissi Hassani
   752 | الأزرق | Azrak, El Azrak
"""

_COMMUNES: Final[str] = """
 3300 | Casablanca | الدار البيضاء | B, BE, BH, BJ, BK, BL
  580 | Rabat | الرباط | A, AB
  980 | Salé | سلا | AE
  310 | Témara | تمارة | AD
   60 | Skhirat | الصخيرات | A
  430 | Kénitra | القنيطرة | G
   75 | Sidi Kacem | سيدي قاسم | GK
   95 | Sidi Slimane | سيدي سليمان | GN
   50 | Souk El Arbaa | سوق الأربعاء | GB
  130 | Khémisset | الخميسات | X
   95 | Tiflet | تيفلت | XA
  220 | Mohammedia | المحمدية | T
   60 | Benslimane | بنسليمان | TA
  140 | Berrechid | برشيد | W
   55 | Had Soualem | حد السوالم | W
  105 | Bouskoura | بوسكورة | BK
  145 | Settat | سطات | M
  195 | El Jadida | الجديدة | MC
   40 | Azemmour | أزمور | MC
   55 | Sidi Bennour | سيدي بنور | MC
  310 | Safi | آسفي | H
   65 | Youssoufia | اليوسفية | HA
   80 | Essaouira | الصويرة | HH
  930 | Marrakech | مراكش | E, EE
   30 | Chichaoua | شيشاوة | EA
   80 | Kelaat Sraghna | قلعة السراغنة | EB
   90 | Ben Guerir | بن جرير | EE
  420 | Agadir | أكادير | J
  130 | Inezgane | إنزكان | JB
  170 | Ait Melloul | أيت ملول | JB
  100 | Dcheira El Jihadia | الدشيرة الجهادية | JB
   40 | Biougra | بيوكرى | JC
   90 | Oulad Teima | أولاد تايمة | JE
   80 | Taroudant | تارودانت | JT
   75 | Tiznit | تيزنيت | JA
  120 | Guelmim | كلميم | JY
   75 | Tan-Tan | طانطان | JK
  220 | Laâyoune | العيون | SH
  110 | Dakhla | الداخلة | SJ
 1110 | Fès | فاس | C, CD
   80 | Sefrou | صفرو | CB
   40 | Taounate | تاونات | CN
  630 | Meknès | مكناس | D
   35 | El Hajeb | الحاجب | DA
   55 | Azrou | أزرو | DN
   30 | Ifrane | إفران | DI
  150 | Taza | تازة | Z
   90 | Guercif | جرسيف | ZG
  500 | Oujda | وجدة | F
  110 | Berkane | بركان | FB
  110 | Taourirt | تاوريرت | FC
   45 | Jerada | جرادة | FJ
  160 | Nador | الناظور | S
   40 | Zaio | زايو | SA
   60 | Al Hoceïma | الحسيمة | R
   35 | Imzouren | إمزورن | RA
  950 | Tanger | طنجة | K
  380 | Tétouan | تطوان | L
   65 | Martil | مرتيل | L
   80 | Fnideq | الفنيدق | LC
  125 | Larache | العرائش | LA
  125 | Ksar El Kebir | القصر الكبير | LB
   45 | Chefchaouen | شفشاون | LF
   60 | Ouazzane | وزان | GZ
  190 | Beni Mellal | بني ملال | I
  100 | Fquih Ben Salah | الفقيه بن صالح | IB
  195 | Khouribga | خريبكة | Q
   95 | Oued Zem | واد زم | QA
  115 | Khénifra | خنيفرة | V
   30 | Azilal | أزيلال | IA
   90 | Errachidia | الرشيدية | U
   60 | Midelt | ميدلت | UA
   45 | Tinghir | تنغير | UC
   70 | Ouarzazate | ورزازات | UB
   40 | Zagora | زاكورة | UD
"""


def _rows(table: str) -> list[list[str]]:
    return [[c.strip() for c in line.split("|")] for line in table.strip().splitlines()]


def _names(table: str) -> tuple[Name, ...]:
    return tuple(
        Name(arabic=ar, latin=tuple(s.strip() for s in lat.split(",")), weight=int(w))
        for w, ar, lat in _rows(table)
    )


MALE_GIVEN: Final[tuple[Name, ...]] = _names(_MALE)
FEMALE_GIVEN: Final[tuple[Name, ...]] = _names(_FEMALE)
FAMILY: Final[tuple[Name, ...]] = _names(_FAMILY)
COMMUNES: Final[tuple[Commune, ...]] = tuple(
    Commune(
        latin=lat, arabic=ar, cin_prefixes=tuple(p.strip() for p in pre.split(",")), weight=int(w)
    )
    for w, lat, ar, pre in _rows(_COMMUNES)
)


@dataclass(frozen=True)
class NameTable:
    """A name list in array form, for vectorised sampling.

    ``variants`` holds every Latin spelling, flattened; name ``i`` has its spellings at
    ``variants[offset[i] : offset[i] + n_variants[i]]``.
    """

    arabic: pl.Series
    variants: pl.Series
    offset: np.ndarray
    n_variants: np.ndarray
    p: np.ndarray  # sampling probabilities (weights normalised)

    def __len__(self) -> int:
        return len(self.arabic)


def _table(names: tuple[Name, ...]) -> NameTable:
    n_var = np.array([len(n.latin) for n in names], dtype=np.int64)
    offset = np.concatenate([[0], np.cumsum(n_var)[:-1]]).astype(np.int64)
    weights = np.array([n.weight for n in names], dtype=np.float64)
    return NameTable(
        arabic=pl.Series("arabic", [n.arabic for n in names], dtype=pl.Utf8),
        variants=pl.Series("latin", [s for n in names for s in n.latin], dtype=pl.Utf8),
        offset=offset,
        n_variants=n_var,
        p=weights / weights.sum(),
    )


@cache
def male_table() -> NameTable:
    """Male given names as a :class:`NameTable`."""
    return _table(MALE_GIVEN)


@cache
def female_table() -> NameTable:
    """Female given names as a :class:`NameTable`."""
    return _table(FEMALE_GIVEN)


@cache
def family_table() -> NameTable:
    """Family names as a :class:`NameTable`."""
    return _table(FAMILY)


@cache
def given_table() -> NameTable:
    """Male then female given names in one :class:`NameTable` (female ids start at
    ``len(MALE_GIVEN)``); its ``p`` is not meant for sampling."""
    return _table(MALE_GIVEN + FEMALE_GIVEN)


@cache
def commune_arrays() -> tuple[pl.Series, pl.Series, np.ndarray]:
    """Latin names, Arabic names and sampling probabilities of :data:`COMMUNES`."""
    weights = np.array([c.weight for c in COMMUNES], dtype=np.float64)
    return (
        pl.Series("latin", [c.latin for c in COMMUNES], dtype=pl.Utf8),
        pl.Series("arabic", [c.arabic for c in COMMUNES], dtype=pl.Utf8),
        weights / weights.sum(),
    )
