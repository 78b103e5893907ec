import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from schools.models import Carer, ContactNumber, Household, Pupil

HEADER = (
    "upn,first_name,last_name,date_of_birth,year_group,address_line_1,address_line_2,town,"
    "postcode,categories,interpreter_language,carer_name,carer_relationship,"
    "carer_parental_responsibility,carer_phone,carer_phone_label,emergency_contact_name,"
    "emergency_contact_phone\n"
)
GOOD_ROWS = (
    "A100001000101,Aisha,Ahmed,14/03/2017,4,12 Elm Grove,,Leeds,ls6 2bd,CP,,Sarah Ahmed,Mother,"
    "yes,07700 900301,Mum's mobile,Nan Ahmed,0113 496 0601\n"
    "A100001000102,Zain,Ahmed,02/09/2019,2,12 Elm Grove,,Leeds,LS6 2BD,,,Sarah Ahmed,Mother,"
    "yes,07700 900301,Mum's mobile,,\n"
    "A100001000103,Maja,Nowak,2018-05-20,Y3,4 Mill Lane,Flat 2,Leeds,LS7 3EF,EHCP; Early Help,"
    "Polish,Agnieszka Nowak,Mother,yes,07700 900302,,,\n"
)


def _write(tmp_path, text):
    path = tmp_path / "pupils.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_imports_pupils_households_carers_and_numbers(tmp_path, oakfield, capsys):
    call_command("import_pupils", _write(tmp_path, HEADER + GOOD_ROWS), school="100001")
    assert Pupil.objects.filter(school=oakfield).count() == 3
    assert Household.objects.filter(school=oakfield).count() == 2  # siblings share one
    ahmeds = Household.objects.get(postcode="LS6 2BD")
    assert ahmeds.pupils.count() == 2
    assert Carer.objects.filter(household=ahmeds).count() == 1
    assert ContactNumber.objects.filter(household=ahmeds).count() == 2
    assert ContactNumber.objects.get(number="+441134960601").emergency_contact
    maja = Pupil.objects.get(first_name="Maja")
    assert maja.ehcp and maja.early_help and maja.year_group == "3"
    assert Pupil.objects.get(first_name="Aisha").child_protection
    assert AuditEvent.objects.filter(event_type="pupils.imported").count() == 1
    assert "3 new pupils" in capsys.readouterr().out


def test_importing_the_same_file_twice_updates_instead_of_duplicating(tmp_path, oakfield):
    path = _write(tmp_path, HEADER + GOOD_ROWS)
    call_command("import_pupils", path, school="100001")
    call_command("import_pupils", path, school="100001")
    assert Pupil.objects.count() == 3
    assert ContactNumber.objects.count() == 3


def test_a_file_with_one_bad_row_imports_nothing_and_names_the_line_and_reason(tmp_path, oakfield):
    bad = "A100001000104,Leo,Brown,31/02/2018,3,9 Rose Street,,Leeds,NOTCODE,,,,,,,,,\n"
    with pytest.raises(CommandError) as error:
        call_command("import_pupils", _write(tmp_path, HEADER + GOOD_ROWS + bad), school="100001")
    message = str(error.value)
    assert "Nothing was imported" in message
    assert "Line 5" in message
    assert "date_of_birth" in message
    assert not Pupil.objects.exists()
    assert not Household.objects.exists()


def test_each_bad_row_is_reported(tmp_path, oakfield):
    rows = (
        "A1,Leo,Brown,01/02/2018,3,9 Rose Street,,Leeds,NOTCODE,,,,,,,,,\n"
        "A2,Ruby,Brown,01/02/2018,3,9 Rose Street,,Leeds,LS6 1AA,,,Kerry Brown,Mother,yes,"
        "12345,,,\n"
        "A3,Theo,Brown,01/02/2018,3,9 Rose Street,,Leeds,LS6 1AA,XYZ,,,,,,,,\n"
        "A4,,Brown,01/02/2018,3,9 Rose Street,,Leeds,LS6 1AA,,,,,,,,,\n"
        "A4,Ella,Brown,01/02/2090,3,9 Rose Street,,Leeds,LS6 1AA,,,,,,,,,\n"
    )
    with pytest.raises(CommandError) as error:
        call_command("import_pupils", _write(tmp_path, HEADER + rows), school="100001")
    message = str(error.value)
    assert "Line 2: postcode" in message
    assert "Line 3: carer_phone" in message
    assert "Line 4: category “XYZ”" in message
    assert "Line 5: first_name is empty" in message
    assert "Line 6" in message and "in the future" in message
    assert not Pupil.objects.exists()


def test_a_file_without_the_required_columns_is_refused(tmp_path, oakfield):
    with pytest.raises(CommandError, match="no column"):
        call_command("import_pupils", _write(tmp_path, "name,dob\nA,B\n"), school="100001")


def test_an_unknown_school_is_refused(tmp_path, db):
    with pytest.raises(CommandError, match="No school has the URN"):
        call_command("import_pupils", _write(tmp_path, HEADER), school="999999")
