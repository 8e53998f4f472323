"""Name vocabulary of the synthetic registry: Moroccan given and family names, communes.

Each table row is ``weight | Arabic spelling | French-style spelling(s)``; the first Latin
spelling is the usual one, the others are attested alternatives (Mohamed/Mohammed/Mohammad,
Youssef/Youcef, Fatima Zahra/Fatimazahra, El Alaoui/Alaoui, Aït/Ait, Ben Ali/Benali ...).
Weights are Zipf-like by rank (``100000 / rank**s``; s = 1 for given names, 0.7 for family
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
 61557 | الإدريسي | Idrissi, El Idrissi, Elidrissi
 46346 | بنعلي | Benali, Ben Ali, Ben-Ali
 37893 | بناني | Bennani, Benani
 32413 | العمراني | El Amrani, Amrani, Lamrani, Elamrani
 28529 | التازي | Tazi, Ettazi
 25611 | الفاسي | El Fassi, Fassi, Elfassi
 23326 | برادة | Berrada, Berada
 21480 | الشرقاوي | Cherkaoui, Charkaoui, Echcherkaoui
 19953 | بنجلون | Benjelloun, Ben Jelloun, Benjeloun
 18665 | الوزاني | Ouazzani, El Ouazzani, Wazzani
 17562 | الحسني | Hassani, El Hassani
 16605 | العلمي | Alami, El Alami, Elalami
 15766 | الكتاني | Kettani, El Kettani
 15022 | الرحماني | Rahmani, Errahmani
 14359 | الزياني | Ziani, Zayani
 13762 | السوسي | Soussi, Essoussi
 13222 | المراكشي | Marrakchi, El Marrakchi
 12731 | الدكالي | Doukkali, Dokkali
 12282 | الشاوي | Chaoui, Echaoui
 11870 | بنموسى | Benmoussa, Ben Moussa
 11490 | بنسعيد | Bensaid, Ben Said, Bensaïd
 11138 | بنعمر | Benomar, Ben Omar
 10811 | بنعبد الله | Benabdellah, Ben Abdellah
 10506 | بنكيران | Benkirane, Ben Kirane
 10222 | بنشقرون | Benchekroun, Ben Chekroun
  9955 | بنيس | Bennis, Benis
  9705 | بنعيسى | Benaissa, Ben Aissa
  9469 | بنصالح | Bensalah, Ben Salah
  9247 | بنإبراهيم | Benbrahim, Ben Brahim
  9037 | بنأحمد | Benahmed, Ben Ahmed
  8839 | بنمحمد | Benmohamed, Ben Mohamed
  8650 | بنمنصور | Benmansour, Ben Mansour
  8472 | بنشريف | Bencherif, Ben Cherif
  8301 | بنيحيى | Benyahya, Ben Yahya
  8139 | آيت علي | Ait Ali, Aït Ali, Aitali
  7985 | آيت الحاج | Ait El Haj, Aït El Haj, Ait Lhaj
  7837 | آيت موسى | Ait Moussa, Aït Moussa
  7696 | آيت إبراهيم | Ait Brahim, Aït Brahim
  7561 | آيت سعيد | Ait Said, Aït Saïd
  7431 | آيت أحمد | Ait Ahmed, Aït Ahmed
  7307 | آيت عبد الله | Ait Abdellah, Aït Abdellah
  7187 | آيت الطالب | Ait Taleb, Aït Taleb
  7073 | آيت حمو | Ait Hammou, Aït Hammou
  6962 | آيت لحسن | Ait Lahcen, Aït Lahcen
  6856 | آيت عمر | Ait Omar, Aït Omar
  6754 | آيت يوسف | Ait Youssef, Aït Youssef
  6655 | آيت مبارك | Ait Mbarek, Aït Mbarek
  6559 | الصقلي | Sqalli, Skalli
  6467 | المريني | Merini, El Merini
  6378 | الحسيني | Housseini, El Housseini, Husseini
  6292 | الريفي | Rifi, Errifi
  6209 | الرباطي | Rbati, Errbati
  6128 | الطنجاوي | Tanjaoui
  6050 | العبدي | Abdi, El Abdi
  5974 | الزموري | Zemmouri, Zammouri
  5900 | الحياني | Hayani, El Hayani
  5829 | الغزواني | Ghazouani, El Ghazouani
  5760 | بنسودة | Bensouda
  5692 | بنزاكور | Benzakour
  5627 | بنحدو | Benhaddou
  5563 | بنحمو | Benhammou
  5501 | بنعزوز | Benazzouz
  5441 | بوزيان | Bouziane
  5382 | البوعزاوي | Bouazzaoui, El Bouazzaoui
  5325 | بوطيب | Boutayeb
  5269 | بوشيخي | Bouchikhi
  5215 | البوزيدي | Bouzidi, El Bouzidi
  5162 | أوحمو | Ouhammou
  5110 | أمزيان | Amziane
  5060 | أمزيل | Amzil
  5010 | أوعلي | Ouali, Oualli
  4962 | الخياط | Khayat, El Khayat, Elkhayat
  4915 | الحداد | Haddad, El Haddad
  4869 | النجار | Najjar, En-Najjar, Ennajjar
  4824 | الصباغ | Sabbagh, Essabbagh
  4780 | الدباغ | Debbagh, Dabbagh
  4737 | العطار | Attar, El Attar
  4695 | الفلاحي | Fellahi, El Fellahi
  4654 | البقالي | Bakkali, El Bakkali
  4614 | الخراز | Kharraz, El Kharraz
  4574 | الطاهري | Tahiri, Et-Tahiri, Ettahiri
  4536 | الطالبي | Talbi, Et-Talbi, Ettalbi
  4498 | الصالحي | Salhi, Essalhi
  4461 | الكريمي | Karimi, El Karimi
  4424 | الحميدي | Hamidi, El Hamidi
  4389 | السعيدي | Saidi, Essaidi, Es-Saidi
  4354 | المحمدي | Mohammadi, El Mohammadi, Mohamadi
  4319 | الأحمدي | Ahmadi, El Ahmadi
  4286 | العزيزي | Azizi, El Azizi
  4253 | الرشيدي | Rachidi, Errachidi
  4220 | الكبير | Kabir, El Kabir
  4189 | الصغير | Seghir, Esseghir
  4157 | اليوسفي | Youssfi, El Youssfi, Youssefi
  4127 | الإبراهيمي | Brahimi, El Brahimi, Ibrahimi
  4096 | العثماني | Othmani, El Othmani
  4067 | البكري | Bakri, El Bakri
  4038 | الجابري | Jabri, El Jabri
  4009 | الزهراوي | Zahraoui, Ez-Zahraoui
  3981 | العمري | Amri, El Amri, Omari
  3953 | المنصوري | Mansouri, El Mansouri
  3926 | الناصري | Naciri, Nasiri, En-Naciri
  3900 | المرابط | Mrabet, El Mrabet
  3873 | الزروالي | Zerouali, Ez-Zerouali
  3847 | الجزولي | Jazouli, El Jazouli
  3822 | التوزاني | Touzani, Et-Touzani
  3797 | الفيلالي | Filali, El Filali
  3772 | السباعي | Sbai, Essbai, Sebbai
  3748 | الحمداوي | Hamdaoui, El Hamdaoui
  3724 | الشاذلي | Chadli, Echadli
  3701 | الدرقاوي | Derkaoui, Darkaoui
  3677 | القاسمي | Kasmi, Qasmi, El Kasmi
  3655 | القادري | Kadiri, Qadiri, El Kadiri
  3632 | الكنوني | Guennouni, Kennouni
  3610 | التجاني | Tijani, Tidjani, Ettijani
  3588 | الشرايبي | Chraibi, Echraibi
  3567 | العراقي | Iraki, El Iraki, Laraki
  3546 | الصفريوي | Sefrioui
  3525 | المكناسي | Meknassi, El Meknassi
  3504 | السلاوي | Slaoui, Esslaoui
  3484 | الشفشاوني | Chefchaouni
  3464 | التطواني | Tetouani
  3444 | الوجدي | Oujdi
  3425 | الصحراوي | Sahraoui, Essahraoui
  3405 | الجبلي | Jebli, El Jebli
  3386 | الإسماعيلي | Ismaili, El Ismaili
  3368 | الأزهري | Azhari, El Azhari
  3349 | الأنصاري | Ansari, El Ansari
  3331 | الأندلسي | Andaloussi, El Andaloussi
  3313 | الحريري | Hariri, El Hariri
  3295 | الهلالي | Hilali, El Hilali
  3278 | الخطابي | Khattabi, El Khattabi
  3261 | الخلفي | Khalfi, El Khalfi
  3244 | الرامي | Rami, Errami
  3227 | الراشدي | Rachdi, Errachdi
  3210 | الرايس | Raiss, Erraiss
  3194 | الزين | Zine, Ezzine
  3177 | الزاهري | Zahiri, Ezzahiri
  3161 | السراج | Serraj, Sarraj, Esserraj
  3146 | الشامي | Chami, Echami
  3130 | الشيخ | Cheikh, Echcheikh
  3115 | الصنهاجي | Senhaji, Sanhaji
  3099 | العبادي | Abbadi, El Abbadi
  3084 | العسري | Assri, El Assri
  3069 | الغماري | Ghomari, El Ghomari
  3055 | الفقير | Fakir, El Fakir
  3040 | المتوكل | Moutawakil, El Moutawakil
  3026 | المرنيسي | Mernissi
  3011 | الموساوي | Moussaoui, El Moussaoui
  2997 | الناجي | Naji, En-Naji
  2983 | الهواري | Houari, El Houari
  2970 | الوافي | Ouafi, El Ouafi
  2956 | اليعقوبي | Yacoubi, El Yacoubi, Yaakoubi
  2943 | حجي | Hajji, Haji
  2929 | عمراوي | Amraoui
  2916 | علوش | Allouch
  2903 | بلحاج | Belhaj, Bel Haj
  2890 | بلقاضي | Belkadi
  2878 | بلعربي | Belarbi, Bel Arbi
  2865 | بلخياط | Belkhayat
  2852 | بلحسن | Belhassan, Belhassen
  2840 | بلفقيه | Belfkih, Belfquih
  2828 | بلقزيز | Belkziz
  2816 | بلعيد | Belaid, Belaïd
  2804 | زروال | Zeroual
  2792 | شكري | Chokri, Choukri
  2780 | عزوزي | Azzouzi
  2769 | لحلو | Lahlou
  2757 | مزوار | Mezouar
  2746 | نجمي | Najmi
  2735 | الهاشمي | Hachimi, El Hachimi, Hachmi
  2724 | وهبي | Ouahbi, Wahbi
  2712 | يحياوي | Yahyaoui
  2702 | الحسناوي | Hasnaoui, El Hasnaoui
  2691 | السملالي | Semlali, Essemlali
  2680 | الجراري | Jirari, Jerrari
  2669 | الحجوي | Hajoui, El Hajoui
  2659 | الصبيحي | Sbihi
  2649 | الدمناتي | Demnati
  2638 | الزرهوني | Zerhouni
  2628 | الطيبي | Taibi, Et-Taibi
  2618 | الفاضلي | Fadili, El Fadili
  2608 | القباج | Kabbaj, Qabbaj
  2598 | المسفيوي | Mesfioui
  2588 | المودن | Moudden, El Moudden
  2578 | النظيفي | Nadifi, En-Nadifi
  2569 | الوكيلي | Oukili, El Oukili
  2559 | بنسليمان | Benslimane, Ben Slimane
  2550 | بنونة | Bennouna
  2540 | بنيوسف | Benyoussef, Ben Youssef
  2531 | بوعبيد | Bouabid
  2522 | التلمساني | Tlemcani, Tlemçani
  2513 | العيساوي | Aissaoui, El Aissaoui
  2503 | بادو | Badou
  2494 | الديوري | Diouri, Eddiouri
  2486 | السقاط | Sekkat
  2477 | الفاسي الفهري | Fassi Fihri, El Fassi Fihri
  2468 | المقري | Mokri, El Mokri
  2459 | المنوني | Menouni, Manouni, El Menouni
  2451 | أمغار | Amghar
  2442 | أوفقير | Oufkir
  2434 | أوبراهيم | Oubrahim
  2425 | أخنوش | Akhannouch
  2417 | الحمري | Hamri, El Hamri
  2409 | الحمراوي | Hamraoui
  2400 | الدحماني | Dahmani
  2392 | الرياحي | Riahi
  2384 | السعداوي | Saadaoui
  2376 | الطالب | Taleb, Ettaleb
  2368 | الغازي | Ghazi, El Ghazi
  2360 | العياشي | Ayachi, El Ayachi
  2353 | الميموني | Mimouni, El Mimouni
  2345 | المسعودي | Messaoudi, El Messaoudi
  2337 | المرزوقي | Marzouki, El Marzouki
  2330 | المباركي | Mbarki, El Mbarki
  2322 | التهامي | Touhami, Et-Touhami
  2315 | الحجاجي | Hajjaji, El Hajjaji
  2307 | الخمليشي | Khamlichi, El Khamlichi
  2300 | الخليفي | Khlifi, El Khlifi
  2292 | الرحالي | Rahhali, Errahhali
  2285 | الزيتوني | Zitouni, Ez-Zitouni
  2278 | السبتي | Sebti, Essebti
  2271 | السرغيني | Serghini, Sarghini
  2264 | الشرادي | Cherradi, Echcherradi
  2257 | الشتوكي | Chtouki
  2250 | الصديقي | Seddiki, Sadiki, Es-Seddiki
  2243 | العروي | Laroui, El Aroui
  2236 | العباسي | Abbassi, El Abbassi
  2229 | العبدلاوي | Abdellaoui, El Abdellaoui
  2222 | الغرباوي | Gharbaoui, El Gharbaoui
  2215 | القصيري | Ksiri, El Ksiri
  2209 | المالكي | Malki, El Malki
  2202 | المتقي | Mouttaki, El Mouttaki
  2196 | المختاري | Mokhtari, El Mokhtari
  2189 | المدني | Madani, El Madani
  2183 | المرابطي | Mrabti, El Mrabti
  2176 | المعروفي | Maaroufi, El Maaroufi
  2170 | المغراوي | Maghraoui, El Maghraoui
  2163 | المكاوي | Mekkaoui, El Mekkaoui
  2157 | النوري | Nouri, En-Nouri
  2151 | الوردي | Ouardi, El Ouardi
  2145 | الودغيري | Oudghiri, El Oudghiri
  2138 | اليزيدي | Yazidi, El Yazidi
  2132 | بنعمار | Benammar, Ben Ammar
  2126 | بنعيش | Benaich, Ben Aich
  2120 | بنحمزة | Benhamza, Ben Hamza
  2114 | بنقدور | Benkaddour, Ben Kaddour
  2108 | بنطالب | Bentaleb, Ben Taleb
  2102 | بنهيمة | Benhima
  2096 | بنشمسي | Benchemsi
  2090 | بنصديق | Benseddik
  2085 | بوستة | Boucetta
  2079 | بورقية | Bourquia
  2073 | جسوس | Jessous
  2067 | حصار | Hassar
  2062 | داودي | Daoudi
  2056 | زنيبر | Zniber
  2051 | شقرون | Chekroun
  2045 | صبري | Sabri
  2039 | عزيمان | Azziman
  2034 | فرحات | Farhat
  2029 | كديرة | Guedira
  2023 | كنون | Guennoun, Kennoun
  2018 | لزرق | Lazrak
  2012 | مزيان | Meziane
  2007 | مسكيني | Meskini
  2002 | الحجامي | Hajjami, El Hajjami
  1997 | البيضاوي | Bidaoui, El Bidaoui
  1991 | الصويري | Souiri, Essouiri
  1986 | الجديدي | Jadidi, El Jadidi
  1981 | الخطيب | Khatib, El Khatib
  1976 | الفكيكي | Figuigui
  1971 | البركاني | Berkani, El Berkani
  1966 | الريسوني | Raissouni, Raïssouni
  1961 | الخلوفي | Khaloufi, El Khaloufi
  1956 | أوزين | Ouzine
  1951 | أعراب | Aarab
  1946 | أوشن | Ouchen
  1941 | أمرابط | Amrabet
  1936 | أبركان | Abarkan
  1932 | الحسوني | Hassouni, El Hassouni
  1927 | الدراوي | Draoui, Eddraoui
  1922 | الخالدي | Khalidi, El Khalidi
  1917 | السعدي | Saadi, Essaadi
  1913 | بنعزيز | Benaziz, Ben Aziz
  1908 | بنزيان | Benziane, Ben Ziane
  1903 | العلوي المدغري | Alaoui Mdaghri, El Alaoui Mdaghri
  1899 | الإدريسي القيطوني | Idrissi Kaitouni, El Idrissi Kaitouni
  1894 | العلوي الإسماعيلي | Alaoui Ismaili, El Alaoui Ismaili
  1889 | العمراني الجوطي | Amrani Joutei, El Amrani Joutei
  1885 | بنعبد الجليل | Benabdeljalil, Ben Abdeljalil
  1880 | الرحموني | Rahmouni, Errahmouni
  1876 | السليماني | Slimani, Soulimani
  1871 | الجوهري | Jaouhari, El Jaouhari
  1867 | الجعفري | Jaafari, El Jaafari
  1862 | الحمدوشي | Hamdouchi
  1858 | العروسي | Aroussi, El Aroussi
  1854 | البصري | Basri, El Basri
  1849 | الروداني | Roudani, Erroudani
  1845 | الغربي | Gharbi, El Gharbi
  1841 | المسناوي | Mesnaoui
  1837 | الطويل | Touil, Ettouil
  1832 | الأشهب | Achhab, El Achhab
  1828 | الصافي | Safi, Essafi
  1824 | بوحسين | Bouhssine
  1820 | بولعيش | Boulaich
  1816 | الفتحي | Fathi, El Fathi
  1811 | عبابو | Ababou
  1807 | الكنسوسي | Kensoussi
  1803 | المنصور | Mansour, El Mansour
  1799 | البوعناني | Bouanani
  1795 | القرشي | Kourachi, Korchi
  1791 | الشعيبي | Chouaibi
  1787 | الإدريسي الحسني | Idrissi Hassani
  1783 | الأزرق | Azrak, El Azrak
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


#: Rural communes near a town of :data:`_COMMUNES`, none of them in the standardiser's
#: gazetteer (:mod:`registry_link.standardise.gazetteer`), so that only their spelling can
#: tell two records apart: ``weight | town | Arabic | Latin spellings (usual first)``. Their
#: Latin spellings vary as French-style transcriptions of rural names do: a vowel written or
#: not (Tameslouht / Tamslouht), a doubled letter (Allal / Alal), the article (Lqliaa /
#: El Qliaa / Leqliaa), Ouled / Oulad, rh for غ (Irherm / Ighrem).
_RURAL_COMMUNES: Final[str] = """
 30 | Kénitra | سيدي علال التازي | Sidi Allal Tazi, Sidi Alal Tazi, Sidi Allal Ettazi
 25 | Kénitra | المناصرة | Mnasra, Menasra, El Mnasra
 30 | Inezgane | القليعة | Lqliaa, Leqliaa, El Qliaa, Lkliaa
 25 | Agadir | الدراركة | Drarga, Ed Drarga, Edrarga
 20 | Agadir | أورير | Aourir, Aorir, Aourire
 30 | Marrakech | تامصلوحت | Tameslouht, Tamesloht, Tamslouht
 25 | Marrakech | السعادة | Saada, Essaada, Es Saada
 25 | Témara | عين عودة | Ain Aouda, Ain Aoudda, Aïn Aouda
 20 | Témara | سيدي يحيى زعير | Sidi Yahya Zaer, Sidi Yahia Zaer, Sidi Yahya Zair
 25 | El Jadida | أولاد فرج | Ouled Frej, Oulad Frej, Ouled Fraj
 25 | El Jadida | مولاي عبد الله | Moulay Abdellah, Moulay Abdallah, Moulay Abdelah
 25 | Safi | سبت جزولة | Sebt Gzoula, Sebt Guezoula, Sebt Gzola
 20 | Safi | حد احرارة | Had Hrara, Had Harara, Had Hrarra
 25 | Taroudant | إغرم | Ighrem, Irherm, Igherm
 25 | Taroudant | أولاد برحيل | Ouled Berhil, Oulad Berhil, Ouled Berrhil
 25 | Essaouira | تمنار | Tamanar, Tamanart, Tamannar
 25 | Beni Mellal | زاوية الشيخ | Zaouiat Cheikh, Zaouit Cheikh, Zaouiat Echeikh
 25 | Khénifra | مريرت | Mrirt, Mririt, Merirt
 25 | Sidi Kacem | حد كورت | Had Kourt, Had Kort, Had Kourte
 25 | Sidi Slimane | سيدي يحيى الغرب | Sidi Yahya El Gharb, Sidi Yahia Gharb, Sidi Yahya Gharb
 25 | Kelaat Sraghna | العطاوية | Laattaouia, El Attaouia, Attaouia, Lattaouia
 25 | Al Hoceïma | بني بوعياش | Bni Bouayach, Beni Bouayach, Bni Bouayache
 25 | Taza | واد أمليل | Oued Amlil, Oued Amelil, Wad Amlil
 25 | Settat | أولاد سعيد | Ouled Said, Oulad Said, Ouled Saïd
 25 | Ouarzazate | سكورة | Skoura, Sekoura, Skora
 25 | Errachidia | أوفوس | Aoufous, Aoufouss, Oufous
 25 | Tiznit | أربعاء الساحل | Arbaa Sahel, Larbaa Sahel, Arbaa Du Sahel
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
class RuralCommune:
    """A rural commune outside the gazetteer, near one town of :data:`COMMUNES`."""

    town: str
    arabic: str
    latin: tuple[str, ...]  # usual spelling first
    weight: int


RURAL_COMMUNES: Final[tuple[RuralCommune, ...]] = tuple(
    RuralCommune(
        town=town, arabic=ar, latin=tuple(x.strip() for x in lat.split(",")), weight=int(w)
    )
    for w, town, ar, lat in _rows(_RURAL_COMMUNES)
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


@dataclass(frozen=True)
class RuralTable:
    """:data:`RURAL_COMMUNES` in array form: ``names`` (a :class:`NameTable` of their
    spellings and Arabic names), and per commune of :data:`COMMUNES` the rural communes near
    it (``first[t] .. first[t] + count[t]`` of ``names``, in weight order of ``cum``)."""

    names: NameTable
    first: np.ndarray
    count: np.ndarray
    #: per rural commune, the cumulative share of its town's rural weight up to and with it
    cum: np.ndarray

    def pick(self, town: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Per row, the rural commune of ``town`` at position ``u`` (in [0, 1)) of their
        weights; -1 where the town has none."""
        out = np.full(len(town), -1, np.int64)
        has = self.count[town] > 0
        for t in np.unique(town[has]):
            rows = np.flatnonzero(town == t)
            lo, n = int(self.first[t]), int(self.count[t])
            k = np.searchsorted(self.cum[lo : lo + n], u[rows], side="right")
            out[rows] = lo + np.minimum(k, n - 1)
        return out


@cache
def rural_table() -> RuralTable:
    """:data:`RURAL_COMMUNES` as a :class:`RuralTable` (grouped by town, in town order)."""
    towns = {c.latin: i for i, c in enumerate(COMMUNES)}
    ordered = sorted(RURAL_COMMUNES, key=lambda r: towns[r.town])
    names = _table(tuple(Name(arabic=r.arabic, latin=r.latin, weight=r.weight) for r in ordered))
    town = np.array([towns[r.town] for r in ordered], dtype=np.int64)
    count = np.bincount(town, minlength=len(COMMUNES))
    first = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
    weights = np.array([r.weight for r in ordered], dtype=np.float64)
    cum = np.zeros(len(ordered))
    for t in np.flatnonzero(count):
        lo, n = first[t], count[t]
        w = weights[lo : lo + n]
        cum[lo : lo + n] = np.cumsum(w) / w.sum()
    return RuralTable(names=names, first=first, count=count, cum=cum)
