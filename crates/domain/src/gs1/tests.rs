//! Tests of the GS1 parser and encoders: both forms, every refusal, and round trips.

use proptest::prelude::*;

use super::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn full() -> Gs1Data {
    Gs1Data {
        gtin: Some(Gtin::parse("09506000134352").unwrap()),
        lot: Some("ABC123".to_owned()),
        production_date: Some(date(2025, 6, 15)),
        expiry: Some(date(2028, 12, 31)),
        serial: Some("SN0001".to_owned()),
    }
}

#[test]
fn the_bracketed_form_printed_on_a_box_reads_every_ai() {
    let data = parse("(01)09506000134352(11)250615(17)281231(10)ABC123(21)SN0001").unwrap();
    assert_eq!(data, full());
}

#[test]
fn the_raw_form_from_a_datamatrix_scanner_reads_every_ai() {
    let data = parse("]d20109506000134352112506151728123110ABC123\u{1d}21SN0001").unwrap();
    assert_eq!(data, full());
}

#[test]
fn the_raw_form_may_start_with_fnc1_and_end_with_a_separator() {
    let data = parse("\u{1d}010950600013435217281231\u{1d}10ABC123\u{1d}\r\n").unwrap();
    assert_eq!(data.gtin, full().gtin);
    assert_eq!(data.expiry, Some(date(2028, 12, 31)));
    assert_eq!(data.lot.as_deref(), Some("ABC123"));
}

#[test]
fn every_gs1_symbology_identifier_is_accepted() {
    for id in ["]C1", "]d2", "]Q3", "]e0"] {
        let data = parse(&format!("{id}0109506000134352")).unwrap();
        assert!(data.gtin.is_some(), "{id}");
    }
}

#[test]
fn a_plain_ean_13_scan_is_not_taken_for_gs1_data() {
    assert_eq!(
        parse("]E09506000134352"),
        Err(Gs1Error::UnknownSymbology("]E0".to_owned()))
    );
}

#[test]
fn each_ai_can_be_scanned_alone() {
    assert_eq!(parse("(10)L-1/2").unwrap().lot.as_deref(), Some("L-1/2"));
    assert_eq!(parse("21SN9").unwrap().serial.as_deref(), Some("SN9"));
    assert_eq!(
        parse("11250101").unwrap().production_date,
        Some(date(2025, 1, 1))
    );
    assert_eq!(parse("(17)300228").unwrap().expiry, Some(date(2030, 2, 28)));
}

#[test]
fn an_expiry_day_of_00_means_the_end_of_that_month() {
    assert_eq!(parse("(17)280200").unwrap().expiry, Some(date(2028, 2, 29)));
    assert_eq!(
        parse("(17)271200").unwrap().expiry,
        Some(date(2027, 12, 31))
    );
    assert_eq!(parse("(17)270400").unwrap().expiry, Some(date(2027, 4, 30)));
}

#[test]
fn a_production_day_of_00_means_the_start_of_that_month() {
    assert_eq!(
        parse("(11)250600").unwrap().production_date,
        Some(date(2025, 6, 1))
    );
}

#[test]
fn dates_that_are_not_in_the_calendar_are_refused() {
    for value in ["281301", "280230", "281300", "280001", "270229"] {
        assert_eq!(
            parse(&format!("(17){value}")),
            Err(Gs1Error::BadDate {
                ai: Ai::Expiry,
                value: value.to_owned()
            }),
            "{value}"
        );
    }
}

#[test]
fn a_gtin_with_a_wrong_check_digit_is_refused_in_both_forms() {
    let expected = Err(Gs1Error::BadGtin(GtinError::BadCheckDigit {
        expected: 2,
        found: 3,
    }));
    assert_eq!(parse("(01)09506000134353"), expected);
    assert_eq!(parse("0109506000134353"), expected);
    assert!(
        parse("0109506000134353")
            .unwrap_err()
            .to_string()
            .contains("should be 2")
    );
}

#[test]
fn truncated_fields_name_their_ai() {
    assert_eq!(
        parse("01095060001343"),
        Err(Gs1Error::Truncated { ai: Ai::Gtin })
    );
    assert_eq!(
        parse("0109506000134352172812"),
        Err(Gs1Error::Truncated { ai: Ai::Expiry })
    );
    assert_eq!(
        parse("(01)09506000134352(17)2812(10)A"),
        Err(Gs1Error::Truncated { ai: Ai::Expiry })
    );
    assert_eq!(parse("(10)"), Err(Gs1Error::Truncated { ai: Ai::Lot }));
    assert_eq!(
        parse("0109506000134352\u{1d}10"),
        Err(Gs1Error::Truncated { ai: Ai::Lot })
    );
    // A separator inside a fixed-length value means the value ended early.
    assert_eq!(
        parse("1728\u{1d}10ABC"),
        Err(Gs1Error::Truncated { ai: Ai::Expiry })
    );
    let message = Gs1Error::Truncated { ai: Ai::Expiry }.to_string();
    assert_eq!(
        message,
        "(17) expiry date is cut short: it has exactly 6 digits (YYMMDD)"
    );
}

#[test]
fn unknown_ais_are_named() {
    assert_eq!(
        parse("(15)281231"),
        Err(Gs1Error::UnknownAi("15".to_owned()))
    );
    assert_eq!(
        parse("0109506000134352240ABC"),
        Err(Gs1Error::UnknownAi("24".to_owned()))
    );
    assert!(
        parse("(400)PO1")
            .unwrap_err()
            .to_string()
            .contains("(400) is not supported")
    );
}

#[test]
fn values_longer_than_the_ai_allows_are_refused() {
    let long = "A".repeat(21);
    assert_eq!(
        parse(&format!("(10){long}")),
        Err(Gs1Error::ValueTooLong {
            ai: Ai::Lot,
            max: 20
        })
    );
    assert_eq!(
        parse(&format!("21{long}")),
        Err(Gs1Error::ValueTooLong {
            ai: Ai::Serial,
            max: 20
        })
    );
    assert_eq!(
        parse("(17)2812311"),
        Err(Gs1Error::ValueTooLong {
            ai: Ai::Expiry,
            max: 6
        })
    );
}

#[test]
fn characters_outside_the_gs1_set_are_refused() {
    assert_eq!(
        parse("(10)AB C"),
        Err(Gs1Error::InvalidCharacter {
            ai: Ai::Lot,
            character: ' '
        })
    );
    assert_eq!(
        parse("10LOT#1"),
        Err(Gs1Error::InvalidCharacter {
            ai: Ai::Lot,
            character: '#'
        })
    );
    assert_eq!(
        parse("(17)28I231"),
        Err(Gs1Error::InvalidCharacter {
            ai: Ai::Expiry,
            character: 'I'
        })
    );
    assert_eq!(
        parse("(21)SNé"),
        Err(Gs1Error::InvalidCharacter {
            ai: Ai::Serial,
            character: 'é'
        })
    );
}

#[test]
fn an_ai_given_twice_is_refused() {
    assert_eq!(parse("(10)A(10)B"), Err(Gs1Error::DuplicateAi(Ai::Lot)));
    assert_eq!(
        parse("1728123117281231"),
        Err(Gs1Error::DuplicateAi(Ai::Expiry))
    );
}

#[test]
fn an_unclosed_bracket_is_refused() {
    assert_eq!(parse("(01"), Err(Gs1Error::MissingClosingBracket));
    assert_eq!(
        parse("(0109506000134352(17)281231"),
        Err(Gs1Error::MissingClosingBracket)
    );
}

#[test]
fn empty_scans_are_refused() {
    for input in ["", "  \r\n", "]d2", "\u{1d}\u{1d}", "]C1\u{1d}"] {
        assert_eq!(parse(input), Err(Gs1Error::Empty), "{input:?}");
    }
}

#[test]
fn an_escaped_bracket_in_a_lot_survives_the_bracketed_form() {
    let data = Gs1Data {
        lot: Some("A(1)".to_owned()),
        ..Gs1Data::default()
    };
    assert_eq!(encode_bracketed(&data), "(10)A\\(1)");
    assert_eq!(
        parse("(10)A\\(1)(21)X").unwrap().lot.as_deref(),
        Some("A(1)")
    );
}

#[test]
fn encodings_put_fixed_length_ais_first_and_separate_only_variable_ones() {
    assert_eq!(
        encode_bracketed(&full()),
        "(01)09506000134352(11)250615(17)281231(10)ABC123(21)SN0001"
    );
    assert_eq!(
        encode_raw(&full()),
        concat!(
            "0109506000134352",
            "11250615",
            "17281231",
            "10ABC123\u{1d}21SN0001"
        )
    );
}

#[test]
fn cset82_has_82_characters() {
    assert_eq!(CSET82.chars().count(), 82);
    assert!(CSET82.chars().all(|c| c.is_ascii_graphic()));
}

fn cset82_value() -> impl Strategy<Value = String> {
    let chars: Vec<char> = CSET82.chars().collect();
    proptest::collection::vec(proptest::sample::select(chars), 1..=20)
        .prop_map(|cs| cs.into_iter().collect())
}

fn date_2000s() -> impl Strategy<Value = NaiveDate> {
    (0u64..36_524).prop_map(|days| {
        date(2000, 1, 1)
            .checked_add_days(chrono::Days::new(days))
            .unwrap()
    })
}

fn gtin() -> impl Strategy<Value = Gtin> {
    "[0-9]{13}".prop_map(|body| {
        let digit = crate::gtin::check_digit(&body).unwrap();
        Gtin::parse(&format!("{body}{digit}")).unwrap()
    })
}

prop_compose! {
    fn gs1_data()(
        gtin in proptest::option::of(gtin()),
        lot in proptest::option::of(cset82_value()),
        production_date in proptest::option::of(date_2000s()),
        expiry in proptest::option::of(date_2000s()),
        serial in proptest::option::of(cset82_value()),
    ) -> Gs1Data {
        Gs1Data { gtin, lot, production_date, expiry, serial }
    }
}

proptest! {
    #[test]
    fn both_encodings_parse_back_to_the_same_data(
        data in gs1_data().prop_filter("a barcode carries something", |d| *d != Gs1Data::default())
    ) {
        prop_assert_eq!(parse(&encode_bracketed(&data)), Ok(data.clone()));
        prop_assert_eq!(parse(&encode_raw(&data)), Ok(data.clone()));
        prop_assert_eq!(parse(&format!("]d2{}", encode_raw(&data))), Ok(data));
    }

    #[test]
    fn parsing_never_panics_on_scanner_noise(input in "(\\PC|\u{1d}|[()\\\\0-9])*") {
        let _ = parse(&input);
    }
}
