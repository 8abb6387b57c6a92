"""Data: the first consent version and processing policy (issue 29, part 4).

Both take effect on 1 January 2026 (Asia/Bishkek). Later wordings are new rows added in
the admin; these are never edited once appeals have accepted them. The holder, the
registry entry, the retention period and the citizen's rights are not in these texts:
the privacy page adds them from the settings (appeals.views.privacy_policy).
"""

import datetime as dt
from zoneinfo import ZoneInfo

from django.db import migrations

EFFECTIVE_FROM = dt.datetime(2026, 1, 1, tzinfo=ZoneInfo("Asia/Bishkek"))

CONSENT = {
    "ky": (
        "Мен ушул кайрылуу жиберилген мамлекеттик органга, ошондой эле кайрылуу "
        "жөнөтүлө турган же аны кароого катышкан органдарга кайрылууда көрсөтүлгөн "
        "жеке маалыматтарымды (фамилиясы, аты, атасынын аты, почта дареги, телефону, "
        "электрондук почтасы, кайрылуунун тексти жана тиркелген файлдар) кайрылууну "
        "кароо жана ага жооп берүү максатында Кыргыз Республикасынын «Жеке мүнөздөгү "
        "маалымат жөнүндө» Мыйзамына ылайык иштетүүгө макулдук берем. Маалыматтар "
        "жеке маалыматтарды иштетүү саясатында көрсөтүлгөн мөөнөттө сакталат жана "
        "Кыргыз Республикасынын чегинен тышкары берилбейт. Кайрылуунун абалын көрүү "
        "барагынан мен аны кайра чакырып ала алам жана мен тууралуу кандай маалымат "
        "сакталганын биле алам."
    ),
    "ru": (
        "Я даю согласие государственному органу, которому адресовано это обращение, "
        "а также органам, которым оно будет направлено или которые участвуют в его "
        "рассмотрении, на обработку моих персональных данных, указанных в обращении "
        "(фамилия, имя, отчество, почтовый адрес, телефон, адрес электронной почты, "
        "текст обращения и приложенные файлы), в целях рассмотрения обращения и ответа "
        "на него в соответствии с Законом Кыргызской Республики «Об информации "
        "персонального характера». Данные хранятся в течение срока, указанного в "
        "политике обработки персональных данных, и не передаются за пределы Кыргызской "
        "Республики. На странице отслеживания обращения я могу отозвать его и узнать, "
        "какие данные обо мне хранятся."
    ),
    "en": (
        "I consent to the state body to which this appeal is addressed, and to the "
        "bodies to which it is forwarded or which take part in its consideration, "
        "processing the personal data I give in it (surname, name, patronymic, postal "
        "address, phone, e-mail, the text of the appeal and the attached files) in "
        "order to consider the appeal and answer it, under the Law of the Kyrgyz "
        "Republic “On information of a personal nature”. The data is kept for the "
        "period stated in the personal-data processing policy and is not transferred "
        "outside the Kyrgyz Republic. On the appeal's tracking page I can withdraw the "
        "appeal and learn what data is held about me."
    ),
}

POLICY = {
    "ky": """# Эмне үчүн иштетилет
Жеке маалыматтар жарандардын кайрылууларын кабыл алуу, каттоо, кароо жана аларга жооп берүү, арыз ээсине кайрылуунун абалы тууралуу кабарлоо, ошондой эле кайрылуулар боюнча жалпыланган (аты-жөнү көрсөтүлбөгөн) статистиканы даярдоо үчүн гана иштетилет.

# Укуктук негизи
Кыргыз Республикасынын «Жарандардын кайрылууларын кароонун тартиби жөнүндө» жана «Жеке мүнөздөгү маалымат жөнүндө» мыйзамдары, ошондой эле кайрылууну жөнөтүүдө арыз ээси берген макулдук.

# Кандай маалыматтар сакталат
Арыз ээсинин фамилиясы, аты, атасынын аты, почта дареги, телефону жана электрондук почтасы; кайрылуунун тексти, тиркелген файлдар жана кошумчалар; кайрылуунун тарыхы (каттоо, жөнөтүү, жооп, баалоо); кызматкерлер жеке маалыматтарды качан ачканы тууралуу жазуулар; жиберилген билдирүүлөр.

# Кимге берилет
Кайрылуу жиберилген органга жана аны кароого катышкан органдарга (аткаруучулар, тең аткаруучулар), кайрылуу ыйгарым укуктуу органга жөнөтүлгөндө ошол органга, ошондой эле мыйзам талап кылган учурда көзөмөл органдарына. Маалыматтар сатылбайт жана жарнама үчүн колдонулбайт.

# Өлкөдөн тышкары берилбейт
Портал жана анын резервдик көчүрмөлөрү Кыргыз Республикасынын аймагында сакталат. Жеке маалыматтар чет мамлекеттерге берилбейт.

# Коргоо
Маалыматтар шифрленген байланыш аркылуу гана берилет; аларды кызматкерлер өз милдетин аткаруу үчүн гана, эки факторлуу кирүү менен ачат; ар бир ачуу жазылып калат.""",
    "ru": """# Цели обработки
Персональные данные обрабатываются только для приёма, регистрации, рассмотрения обращений граждан и ответа на них, для уведомления заявителя о ходе рассмотрения, а также для подготовки обобщённой (обезличенной) статистики по обращениям.

# Правовые основания
Законы Кыргызской Республики «О порядке рассмотрения обращений граждан» и «Об информации персонального характера», а также согласие, которое заявитель даёт при подаче обращения.

# Какие данные хранятся
Фамилия, имя, отчество, почтовый адрес, телефон и адрес электронной почты заявителя; текст обращения, приложенные файлы и дополнения; история обращения (регистрация, направление, ответ, оценка); записи о том, когда сотрудники открывали персональные данные; отправленные уведомления.

# Кому передаются
Органу, которому адресовано обращение, и органам, участвующим в его рассмотрении (исполнители, соисполнители); органу, которому обращение направлено по компетенции; органам контроля в случаях, предусмотренных законом. Данные не продаются и не используются для рекламы.

# Данные не покидают страну
Портал и его резервные копии хранятся на территории Кыргызской Республики. Персональные данные не передаются в иностранные государства.

# Защита
Данные передаются только по зашифрованным каналам; сотрудники открывают их только для исполнения своих обязанностей и входят с двухфакторной проверкой; каждое открытие записывается.""",
    "en": """# Purposes
Personal data is processed only to receive, register and consider citizens' appeals and to answer them, to tell the applicant how the appeal is progressing, and to prepare aggregate (anonymous) statistics of appeals.

# Legal basis
The Laws of the Kyrgyz Republic “On the procedure for considering citizens' appeals” and “On information of a personal nature”, and the consent the applicant gives when filing the appeal.

# What is held
The applicant's surname, name, patronymic, postal address, phone and e-mail; the text of the appeal, the attached files and additions; the appeal's history (registration, forwarding, answer, rating); records of when staff opened the personal data; the notices sent.

# Who receives it
The body the appeal is addressed to and the bodies taking part in its consideration (executors, co-executors); the competent body the appeal is forwarded to; oversight bodies where the law requires it. The data is never sold or used for advertising.

# Nothing leaves the country
The portal and its backups are kept in the Kyrgyz Republic. Personal data is not transferred to foreign states.

# Protection
The data travels only over encrypted connections; staff open it only to do their duties and log in with a second factor; every opening is recorded.""",
}


def create_texts(apps, schema_editor):
    ConsentVersion = apps.get_model("appeals", "ConsentVersion")
    ProcessingPolicy = apps.get_model("appeals", "ProcessingPolicy")
    if not ConsentVersion.objects.filter(effective_from=EFFECTIVE_FROM).exists():
        ConsentVersion.objects.create(
            effective_from=EFFECTIVE_FROM,
            text=CONSENT["ky"],
            **{f"text_{code}": text for code, text in CONSENT.items()},
        )
    if not ProcessingPolicy.objects.filter(effective_from=EFFECTIVE_FROM).exists():
        ProcessingPolicy.objects.create(
            effective_from=EFFECTIVE_FROM,
            body=POLICY["ky"],
            **{f"body_{code}": text for code, text in POLICY.items()},
        )


def delete_texts(apps, schema_editor):
    # An appeal that accepted this version keeps it (PROTECT): the reverse stops
    # there rather than erase what a citizen agreed to.
    apps.get_model("appeals", "ConsentVersion").objects.filter(
        effective_from=EFFECTIVE_FROM
    ).delete()
    apps.get_model("appeals", "ProcessingPolicy").objects.filter(
        effective_from=EFFECTIVE_FROM
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("appeals", "0021_flag_words")]

    operations = [migrations.RunPython(create_texts, delete_texts)]
