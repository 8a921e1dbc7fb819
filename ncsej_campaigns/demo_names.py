"""Names for the demo data: American and Russian first and last names, with the Latin spelling
used for the Russian ones' email addresses. Shared by the coalition's and the petitions' demo."""

from __future__ import annotations

EN_FIRST = ["Sarah", "David", "Rachel", "Michael", "Deborah", "Daniel", "Miriam", "Joshua",
            "Esther", "Jonathan", "Ruth", "Benjamin", "Hannah", "Aaron", "Leah", "Samuel",
            "Naomi", "Adam", "Judith", "Jacob", "Rebecca", "Eli", "Tamar", "Nathan"]
EN_LAST = ["Cohen", "Levy", "Goldberg", "Friedman", "Shapiro", "Katz", "Rosen", "Klein",
           "Weiss", "Stein", "Kaplan", "Adler", "Siegel", "Abrams", "Bernstein", "Feldman",
           "Glass", "Horowitz", "Lerner", "Marcus", "Newman", "Pearl", "Sachs", "Wexler"]
RU_FIRST = ["Анатолий", "Ида", "Владимир", "Мария", "Иосиф", "Юлий", "Наталья", "Александр",
            "Елена", "Борис", "Инна", "Григорий", "Ольга", "Михаил", "Дина", "Леонид",
            "Татьяна", "Эдуард", "Вера", "Яков"]
RU_LAST_M = ["Щаранский", "Бегун", "Слепак", "Эссас", "Кошаровский", "Абрамович", "Фрадкин",
             "Лернер", "Кислик", "Прайсман", "Кац", "Рубин"]
RU_FIRST_F = {"Ида", "Мария", "Наталья", "Елена", "Инна", "Ольга", "Дина", "Татьяна", "Вера"}
RU_TRANSLIT = {"Анатолий": "anatoly", "Ида": "ida", "Владимир": "vladimir", "Мария": "maria",
               "Иосиф": "iosif", "Юлий": "yuli", "Наталья": "natalya", "Александр": "alexander",
               "Елена": "elena", "Борис": "boris", "Инна": "inna", "Григорий": "grigory",
               "Ольга": "olga", "Михаил": "mikhail", "Дина": "dina", "Леонид": "leonid",
               "Татьяна": "tatyana", "Эдуард": "eduard", "Вера": "vera", "Яков": "yakov"}
RU_LAST_TRANSLIT = {"Щаранский": "shcharansky", "Бегун": "begun", "Слепак": "slepak",
                    "Эссас": "essas", "Кошаровский": "kosharovsky", "Абрамович": "abramovich",
                    "Фрадкин": "fradkin", "Лернер": "lerner", "Кислик": "kislik",
                    "Прайсман": "praisman", "Кац": "katz", "Рубин": "rubin"}


def feminine_surname(last: str) -> str:
    """Russian surnames in -ский and -ин take a feminine ending; the others do not change."""
    if last.endswith("ий"):
        return last[:-2] + "ая"
    if last.endswith("ин"):
        return last + "а"
    return last


def russian_name(rng) -> tuple[str, str, str]:
    """A Russian first and last name (the surname agreeing with a woman's first name) and
    their Latin spelling, ``first.last``, for an email address."""
    first, last_m = rng.choice(RU_FIRST), rng.choice(RU_LAST_M)
    last = feminine_surname(last_m) if first in RU_FIRST_F else last_m
    return first, last, f"{RU_TRANSLIT[first]}.{RU_LAST_TRANSLIT[last_m]}"


def english_name(rng) -> tuple[str, str, str]:
    """An American first and last name and ``first.last`` in lower case, for an address."""
    first, last = rng.choice(EN_FIRST), rng.choice(EN_LAST)
    return first, last, f"{first.lower()}.{last.lower()}"
