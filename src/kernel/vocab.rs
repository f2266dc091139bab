//! The vocabularies: every state and code list the product stores, declared once. Each is
//! a Rust enum stored as its lowercase text (the same strings as ever in the database),
//! serialised as that text, parsed with a message that lists the allowed values, and
//! published in the OpenAPI document. Models read the text columns through
//! `#[diesel(deserialize_as = String)]`, so an unknown stored value is a load error, not a
//! silent default.

/// Declares a vocabulary enum: `Variant => "text"` pairs, the first line its doc and a
/// human noun for error messages. The text must be the variant's name in snake_case (serde
/// and the OpenAPI schema derive it that way; a test checks that the two agree).
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident, $noun:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
                 serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        $(#[$meta])*
        pub enum $name {
            $($variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored and serialised text.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// Every value's text, in declaration order.
            pub fn texts() -> Vec<&'static str> {
                Self::ALL.iter().map(|v| v.as_str()).collect()
            }

            /// Parses the text; the error names the allowed values.
            pub fn parse(s: &str) -> Result<$name, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(format!(
                        "unknown {} {s:?}; use one of: {}",
                        $noun,
                        Self::texts().join(", ")
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<$name, String> {
                $name::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.as_str().to_string()
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}

vocabulary! {
    /// Where a round is in its life. A stored `scheduled` round whose opening time has come
    /// is open, and an open round past its closing time is closed
    /// (`Round::effective_state`); the scheduler persists both.
    RoundState, "round state" {
        Scheduled => "scheduled",
        Open => "open",
        Closed => "closed",
    }
}

vocabulary! {
    /// The interface and survey languages the product speaks.
    #[schema(as = LanguageCode)]
    Language, "language" {
        En => "en",
        Fr => "fr",
        Es => "es",
        Ar => "ar",
    }
}

vocabulary! {
    /// Kinds of organization a partner or respondent belongs to.
    OrgType, "organization type" {
        Un => "un",
        Ingo => "ingo",
        Nngo => "nngo",
        Government => "government",
        Rcrc => "rcrc",
        Donor => "donor",
        Academic => "academic",
        Other => "other",
    }
}

vocabulary! {
    /// Where a follow-up action of an action plan stands.
    ActionStatus, "action status" {
        Open => "open",
        InProgress => "in_progress",
        Done => "done",
    }
}

vocabulary! {
    /// Where a piece of community feedback stands in its workflow.
    FeedbackStatus, "feedback status" {
        Received => "received",
        Acknowledged => "acknowledged",
        Referred => "referred",
        Responded => "responded",
        Closed => "closed",
    }
}

vocabulary! {
    /// A workflow step staff take on a piece of feedback.
    FeedbackAction, "feedback action" {
        Acknowledge => "acknowledge",
        Refer => "refer",
        Respond => "respond",
        Close => "close",
        Reopen => "reopen",
        MarkSensitive => "mark_sensitive",
    }
}

vocabulary! {
    /// Where a staff account stands: it can sign in, it was invited and has not set a
    /// password yet, or an admin disabled it.
    UserStatus, "account status" {
        Active => "active",
        Invited => "invited",
        Disabled => "disabled",
    }
}

vocabulary! {
    /// Why a one-time link that sets a password was sent.
    LinkPurpose, "link purpose" {
        Invite => "invite",
        Reset => "reset",
    }
}

vocabulary! {
    /// An organization's standing in an operation's membership register: a member adheres
    /// to the minimum commitments, an observer attends without adhering to all of them.
    MembershipStatus, "membership status" {
        Member => "member",
        Observer => "observer",
        Former => "former",
    }
}

vocabulary! {
    /// Where a member takes part: the national cluster or a sub-national one.
    MembershipLevel, "membership level" {
        National => "national",
        Subnational => "subnational",
    }
}

vocabulary! {
    /// How far an organization says it meets one minimum commitment.
    CommitmentRating, "rating" {
        Meets => "meets",
        Partly => "partly",
        NotYet => "not_yet",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_and_errors_name_the_choices() {
        for s in RoundState::ALL {
            assert_eq!(RoundState::parse(s.as_str()), Ok(*s));
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                serde_json::json!(s.as_str())
            );
        }
        fn agree<T: serde::Serialize + utoipa::PartialSchema>(all: &[T], texts: Vec<&str>) {
            let serialised: Vec<String> = all
                .iter()
                .map(|v| {
                    serde_json::to_value(v)
                        .unwrap()
                        .as_str()
                        .unwrap()
                        .to_string()
                })
                .collect();
            assert_eq!(serialised, texts);
            let schema = serde_json::to_value(T::schema()).unwrap();
            let listed: Vec<&str> = schema["enum"]
                .as_array()
                .expect("an enum schema")
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            assert_eq!(listed, texts, "the OpenAPI schema lists other values");
        }
        agree(RoundState::ALL, RoundState::texts());
        agree(Language::ALL, Language::texts());
        agree(OrgType::ALL, OrgType::texts());
        agree(ActionStatus::ALL, ActionStatus::texts());
        agree(FeedbackStatus::ALL, FeedbackStatus::texts());
        agree(FeedbackAction::ALL, FeedbackAction::texts());
        agree(UserStatus::ALL, UserStatus::texts());
        agree(LinkPurpose::ALL, LinkPurpose::texts());
        agree(MembershipStatus::ALL, MembershipStatus::texts());
        agree(MembershipLevel::ALL, MembershipLevel::texts());
        agree(CommitmentRating::ALL, CommitmentRating::texts());
        let e = ActionStatus::parse("finished").unwrap_err();
        assert!(e.contains("open, in_progress, done"), "{e}");
        assert_eq!(Language::texts(), ["en", "fr", "es", "ar"]);
        assert_eq!(OrgType::parse("nngo"), Ok(OrgType::Nngo));
        assert!(OrgType::parse("NNGO").is_err());
    }
}
