//! Clients: register, read, search and change them.
//!
//! Clients belong to the organisation, not to one clinic: every role at any clinic may find and
//! read them (`client_read`). Their `notes` are clinical and reach only roles that may read
//! clinical content; for anyone else the field is absent from the answer. Front desk may not
//! write notes either, since it cannot see what it would overwrite.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::Set;
use serde::{Deserialize, Serialize};
use skinledger_domain::ValidationErrors;
use skinledger_domain::clinical::FitzpatrickType;
use skinledger_domain::names::{Email, Name};
use skinledger_domain::permission::{Action, Scope};
use skinledger_store::clients;
use skinledger_store::codec::Text;
use skinledger_store::entities::client as client_row;
use uuid::Uuid;

use crate::App;
use crate::ErrorCode;
use crate::actor::Actor;
use crate::audit::{AuditEvent, Subject};
use crate::error::{Error, Result};
use crate::events::{Change, EventData};
use crate::idempotency::{self, IdempotencyKey};
use crate::paging::{Page, PageParams};
use crate::text::{MAX_TEXT_LEN, optional_text};
use crate::txn::Txn;
use skinledger_domain::events::EventType;

/// A client as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Client {
    /// Their id.
    pub id: Uuid,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Date of birth.
    pub date_of_birth: NaiveDate,
    /// Phone number as entered.
    pub phone: Option<String>,
    /// Email address, lowercased.
    pub email: Option<String>,
    /// Fitzpatrick skin type, `i` to `vi`.
    pub fitzpatrick_type: Option<FitzpatrickType>,
    /// The version of the consent form signed.
    pub consent_version: Option<String>,
    /// When the consent form was signed.
    pub consent_signed_at: Option<DateTime<Utc>>,
    /// Whether the client agreed to be photographed.
    pub photo_consent: bool,
    /// Clinical notes: present only for roles that read clinical content, and when there are any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Incremented by every change; the `ETag`, sent back as `If-Match`.
    pub version: i64,
    /// When the client was registered.
    pub created_at: DateTime<Utc>,
    /// When their details last changed.
    pub updated_at: DateTime<Utc>,
}

impl Client {
    /// The client as `actor` may see it.
    fn view(row: client_row::Model, actor: &Actor) -> Self {
        let clinical = actor.may(Action::ClinicalRead, Scope::Anywhere);
        Self {
            id: row.id,
            first_name: row.first_name,
            last_name: row.last_name,
            date_of_birth: row.date_of_birth,
            phone: row.phone,
            email: row.email,
            fitzpatrick_type: row.fitzpatrick_type.map(Text::into_inner),
            consent_version: row.consent_version,
            consent_signed_at: row.consent_signed_at,
            photo_consent: row.photo_consent,
            notes: if clinical { row.notes } else { None },
            version: i64::from(row.version),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// A new client, as sent.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClient {
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Date of birth.
    pub date_of_birth: NaiveDate,
    /// Phone number.
    #[serde(default)]
    pub phone: Option<String>,
    /// Email address.
    #[serde(default)]
    pub email: Option<String>,
    /// Fitzpatrick skin type.
    #[serde(default)]
    pub fitzpatrick_type: Option<FitzpatrickType>,
    /// The version of the consent form signed; sent together with `consent_signed_at`.
    #[serde(default)]
    pub consent_version: Option<String>,
    /// When the consent form was signed.
    #[serde(default)]
    pub consent_signed_at: Option<DateTime<Utc>>,
    /// Whether the client agreed to be photographed.
    #[serde(default)]
    pub photo_consent: bool,
    /// Clinical notes (roles that read clinical content only).
    #[serde(default)]
    pub notes: Option<String>,
}

/// Changes to a client; absent fields stay as they are, and an empty text clears a field.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientChanges {
    /// A new first name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// A new last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// A corrected date of birth.
    #[serde(default)]
    pub date_of_birth: Option<NaiveDate>,
    /// A new phone number; empty clears it.
    #[serde(default)]
    pub phone: Option<String>,
    /// A new email; empty clears it.
    #[serde(default)]
    pub email: Option<String>,
    /// A new Fitzpatrick skin type.
    #[serde(default)]
    pub fitzpatrick_type: Option<FitzpatrickType>,
    /// A newly signed consent form's version; sent together with `consent_signed_at`.
    #[serde(default)]
    pub consent_version: Option<String>,
    /// When the new consent form was signed.
    #[serde(default)]
    pub consent_signed_at: Option<DateTime<Utc>>,
    /// Photo consent given or withdrawn.
    #[serde(default)]
    pub photo_consent: Option<bool>,
    /// New clinical notes (roles that read clinical content only); empty clears them.
    #[serde(default)]
    pub notes: Option<String>,
}

impl ClientChanges {
    /// The names of the fields sent, for the audit log (never their values: health data).
    fn field_names(&self) -> Vec<&'static str> {
        [
            ("first_name", self.first_name.is_some()),
            ("last_name", self.last_name.is_some()),
            ("date_of_birth", self.date_of_birth.is_some()),
            ("phone", self.phone.is_some()),
            ("email", self.email.is_some()),
            ("fitzpatrick_type", self.fitzpatrick_type.is_some()),
            ("consent_version", self.consent_version.is_some()),
            ("consent_signed_at", self.consent_signed_at.is_some()),
            ("photo_consent", self.photo_consent.is_some()),
            ("notes", self.notes.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, sent)| sent.then_some(name))
        .collect()
    }
}

/// A phone number: digits with the usual separators, 5 to 20 digits.
fn phone(errors: &mut ValidationErrors, value: Option<&str>) -> Option<String> {
    let phone = optional_text(errors, "phone", value, 40)?;
    let allowed = phone.starts_with(|c: char| c == '+' || c == '(' || c.is_ascii_digit())
        && phone
            .chars()
            .all(|c| c.is_ascii_digit() || " +-()/.".contains(c));
    let digits = clients::phone_key(&phone).len();
    if !allowed || !(5..=20).contains(&digits) {
        errors.add("phone", "must be a phone number of 5 to 20 digits");
        return None;
    }
    Some(phone)
}

fn email(errors: &mut ValidationErrors, value: Option<&str>) -> Option<String> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    errors
        .check("email", Email::parse(value))
        .map(|e| e.to_string())
}

fn date_of_birth(errors: &mut ValidationErrors, value: NaiveDate) {
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
    if value > Utc::now().date_naive() || value < earliest {
        errors.add(
            "date_of_birth",
            "must be a past date no earlier than 1900-01-01",
        );
    }
}

/// The consent pair: both or neither, the time not in the future.
fn consent(
    errors: &mut ValidationErrors,
    version: Option<&str>,
    signed_at: Option<DateTime<Utc>>,
) -> Option<(String, DateTime<Utc>)> {
    let version = optional_text(errors, "consent_version", version, 64);
    match (version, signed_at) {
        (None, None) => None,
        (Some(version), Some(at)) => {
            if at > Utc::now() + chrono::Duration::minutes(5) {
                errors.add("consent_signed_at", "must not be in the future");
                return None;
            }
            Some((version, at))
        }
        (Some(_), None) => {
            errors.add("consent_signed_at", "is required with consent_version");
            None
        }
        (None, Some(_)) => {
            errors.add("consent_version", "is required with consent_signed_at");
            None
        }
    }
}

fn name(errors: &mut ValidationErrors, field: &str, value: &str) -> Option<String> {
    errors
        .check(field, Name::parse(value))
        .map(|n| n.to_string())
}

/// Writing notes needs the right to read clinical content.
fn require_notes_access(actor: &Actor, notes_sent: bool) -> Result<()> {
    if notes_sent && !actor.may(Action::ClinicalRead, Scope::Anywhere) {
        return Err(Error::Forbidden {
            code: ErrorCode::Forbidden,
            detail: "your roles do not allow writing clinical notes".into(),
        });
    }
    Ok(())
}

impl App {
    /// Registers a client (any role).
    pub async fn create_client(
        &self,
        actor: &Actor,
        new: NewClient,
        key: Option<&IdempotencyKey>,
    ) -> Result<Client> {
        let subject = Subject::new("client", None);
        self.audited(actor, "client.create", subject, async move {
            actor.require(Action::ClientWrite, Scope::Anywhere)?;
            require_notes_access(actor, new.notes.is_some())?;
            let mut errors = ValidationErrors::new();
            let first_name = name(&mut errors, "first_name", &new.first_name);
            let last_name = name(&mut errors, "last_name", &new.last_name);
            date_of_birth(&mut errors, new.date_of_birth);
            let phone = phone(&mut errors, new.phone.as_deref());
            let email = email(&mut errors, new.email.as_deref());
            let consent = consent(
                &mut errors,
                new.consent_version.as_deref(),
                new.consent_signed_at,
            );
            let notes = optional_text(&mut errors, "notes", new.notes.as_deref(), MAX_TEXT_LEN);
            errors.into_result()?;
            let (Some(first_name), Some(last_name)) = (first_name, last_name) else {
                return Err(Error::Internal("validated fields missing".into()));
            };
            let (consent_version, consent_signed_at) = consent.unzip();
            idempotency::run(
                self.db(),
                actor,
                key,
                "client.create",
                &new,
                |txn| async move {
                    let now = Utc::now();
                    let row = clients::insert(
                        &txn,
                        client_row::ActiveModel {
                            id: Set(Uuid::now_v7()),
                            organization_id: Set(actor.org_id),
                            name_search: Set(clients::name_key(&first_name, &last_name)),
                            reverse_name_search: Set(clients::reverse_name_key(
                                &first_name,
                                &last_name,
                            )),
                            first_name: Set(first_name),
                            last_name: Set(last_name),
                            date_of_birth: Set(new.date_of_birth),
                            phone_search: Set(phone.as_deref().map(clients::phone_key)),
                            phone: Set(phone),
                            email_search: Set(email.as_deref().map(clients::email_key)),
                            email: Set(email),
                            fitzpatrick_type: Set(new.fitzpatrick_type.map(Into::into)),
                            consent_version: Set(consent_version),
                            consent_signed_at: Set(consent_signed_at),
                            photo_consent: Set(new.photo_consent),
                            notes: Set(notes),
                            version: Set(1),
                            created_at: Set(now),
                            updated_at: Set(now),
                        },
                    )
                    .await?;
                    txn.audit(
                        AuditEvent::by(actor, "client.create", "client", Some(row.id))
                            .client(row.id),
                    );
                    txn.publish(
                        actor.org_id,
                        vec![Change::new(EventType::ClientCreated).client(row.id).data(
                            EventData {
                                version: Some(i64::from(row.version)),
                                ..EventData::default()
                            },
                        )],
                    );
                    Ok((Client::view(row, actor), txn))
                },
            )
            .await
        })
        .await
    }

    /// One client, with `version` for `ETag` (any role; notes for clinical roles only).
    pub async fn get_client(&self, actor: &Actor, id: Uuid) -> Result<Client> {
        let row = clients::get(self.db().read(), actor.org_id, id)
            .await?
            .ok_or(Error::NotFound("client"))?;
        actor.require(Action::ClientRead, Scope::Anywhere)?;
        self.read_audit()
            .record(AuditEvent::by(actor, "client.read", "client", Some(id)).client(id))
            .await;
        Ok(Client::view(row, actor))
    }

    /// The organisation's clients; with `q`, those whose first name, last name, `first last`,
    /// email or phone digits start with it, ignoring case.
    pub async fn list_clients(
        &self,
        actor: &Actor,
        q: Option<&str>,
        page: &PageParams,
    ) -> Result<Page<Client>> {
        actor.require(Action::ClientRead, Scope::Anywhere)?;
        let page = page.parse()?;
        let rows = clients::list(self.db().read(), actor.org_id, q, page).await?;
        for row in &rows.items {
            self.read_audit()
                .record(AuditEvent::by(actor, "client.list", "client", Some(row.id)).client(row.id))
                .await;
        }
        let next_after = rows.next_after;
        let items = rows
            .items
            .into_iter()
            .map(|row| Client::view(row, actor))
            .collect();
        Ok(Page::from_store(
            skinledger_store::Page { items, next_after },
            |c| c,
        ))
    }

    /// Changes a client (any role; notes only for clinical roles).
    ///
    /// With `if_match`, refuses with 412 unless it is the current `version`; without it the
    /// change applies to whatever is stored (last write wins), as for clients that never read
    /// first. Every change increments the version.
    pub async fn update_client(
        &self,
        actor: &Actor,
        id: Uuid,
        changes: ClientChanges,
        if_match: Option<i64>,
    ) -> Result<Client> {
        let subject = Subject::new("client", Some(id)).client(id);
        self.audited(actor, "client.update", subject, async move {
            let mut errors = ValidationErrors::new();
            let first_name = changes
                .first_name
                .as_deref()
                .and_then(|n| name(&mut errors, "first_name", n));
            let last_name = changes
                .last_name
                .as_deref()
                .and_then(|n| name(&mut errors, "last_name", n));
            if let Some(dob) = changes.date_of_birth {
                date_of_birth(&mut errors, dob);
            }
            let phone = phone(&mut errors, changes.phone.as_deref());
            let email = email(&mut errors, changes.email.as_deref());
            let consent = consent(
                &mut errors,
                changes.consent_version.as_deref(),
                changes.consent_signed_at,
            );
            let notes = optional_text(&mut errors, "notes", changes.notes.as_deref(), MAX_TEXT_LEN);

            let txn = Txn::begin(self.db()).await?;
            let row = clients::get(&txn, actor.org_id, id)
                .await?
                .ok_or(Error::NotFound("client"))?;
            actor.require(Action::ClientWrite, Scope::Anywhere)?;
            require_notes_access(actor, changes.notes.is_some())?;
            errors.into_result()?;
            if if_match.is_some_and(|v| v != i64::from(row.version)) {
                return Err(Error::PreconditionFailed);
            }

            let first = first_name.clone().unwrap_or_else(|| row.first_name.clone());
            let last = last_name.clone().unwrap_or_else(|| row.last_name.clone());
            let mut active = client_row::ActiveModel {
                updated_at: Set(Utc::now()),
                ..Default::default()
            };
            if first_name.is_some() || last_name.is_some() {
                active.name_search = Set(clients::name_key(&first, &last));
                active.reverse_name_search = Set(clients::reverse_name_key(&first, &last));
                active.first_name = Set(first);
                active.last_name = Set(last);
            }
            if let Some(dob) = changes.date_of_birth {
                active.date_of_birth = Set(dob);
            }
            if changes.phone.is_some() {
                active.phone_search = Set(phone.as_deref().map(clients::phone_key));
                active.phone = Set(phone);
            }
            if changes.email.is_some() {
                active.email_search = Set(email.as_deref().map(clients::email_key));
                active.email = Set(email);
            }
            if let Some(t) = changes.fitzpatrick_type {
                active.fitzpatrick_type = Set(Some(t.into()));
            }
            if let Some((version, at)) = consent {
                active.consent_version = Set(Some(version));
                active.consent_signed_at = Set(Some(at));
            }
            if let Some(flag) = changes.photo_consent {
                active.photo_consent = Set(flag);
            }
            if changes.notes.is_some() {
                active.notes = Set(notes);
            }
            // The stored version must still be the one just read: a concurrent change wins the
            // race, and this one answers 412 as if If-Match had been stale.
            if !clients::update_if_version(&txn, actor.org_id, id, row.version, active).await? {
                return Err(Error::PreconditionFailed);
            }
            let row = clients::get(&txn, actor.org_id, id)
                .await?
                .ok_or(Error::NotFound("client"))?;
            txn.audit(
                AuditEvent::by(actor, "client.update", "client", Some(id))
                    .client(id)
                    .detail(serde_json::json!({ "fields": changes.field_names() })),
            );
            txn.publish(
                actor.org_id,
                vec![
                    Change::new(EventType::ClientUpdated)
                        .client(id)
                        .data(EventData {
                            version: Some(i64::from(row.version)),
                            ..EventData::default()
                        }),
                ],
            );
            txn.commit().await?;
            Ok(Client::view(row, actor))
        })
        .await
    }
}
