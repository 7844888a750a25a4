//! The words the console shows for the wire's enums. Every `match` is exhaustive, so a
//! new variant cannot reach the screen without words of its own.

use latchkey_types::{
    AccountStatus, Action, AuditChannel, DeliveryStatus, FactorKind, FlowScope, Outcome, Role,
};

pub fn role(r: Role) -> &'static str {
    match r {
        Role::GlobalAdministrator => "Global administrator",
        Role::LocalAdministrator => "Local administrator",
        Role::HelpdeskOperator => "Helpdesk operator",
        Role::SupportAgent => "Support agent",
    }
}

pub fn status(s: AccountStatus) -> &'static str {
    match s {
        AccountStatus::Active => "Active",
        AccountStatus::Disabled => "Disabled",
        AccountStatus::Deleted => "Deleted",
    }
}

pub fn action(a: Action) -> &'static str {
    match a {
        Action::SignIn => "Sign-in",
        Action::SignOut => "Sign-out",
        Action::Unlock => "Unlock",
        Action::Lock => "Lock",
        Action::RevokeSessions => "Sessions revoked",
        Action::SelfServiceStart => "Self-service started",
        Action::SelfServiceIdentify => "Self-service: username given",
        Action::SelfServiceStep => "Self-service: step answered",
        Action::SelfServiceResendCode => "Self-service: new code sent",
        Action::SelfServiceSwitchFactor => "Self-service: other step chosen",
        Action::ResetPassword => "Password reset",
        Action::EnrolSecurityQuestions => "Security questions enrolled",
        Action::EnrolAuthenticator => "Authenticator enrolled",
        Action::EnrolRecoveryEmail => "Recovery email address changed",
        Action::NotificationFailed => "Mail not delivered",
        Action::NotificationResent => "Mail sent again",
        Action::SetAuthFlow => "Self-service steps changed",
        Action::SetLockoutPolicy => "Lockout policy changed",
        Action::CreateUser => "User created",
        Action::UpdateUser => "User changed",
        Action::SetUserStatus => "User disabled or enabled",
        Action::GrantRole => "Role granted",
        Action::RevokeRole => "Role revoked",
        Action::CreateOrganisation => "Organisation created",
        Action::RegisterIdentityStore => "Directory store added",
        Action::EditQuestionCatalogue => "Question catalogue changed",
        Action::ExportHistory => "History downloaded",
        Action::ResetMfa => "Secret key (MFA) reset",
        Action::Resecure => "Account resecured",
        Action::DeviceAuthorization => "Device authorization",
        Action::ChangePassword => "Password changed",
        Action::AcceptAup => "Acceptable use policy accepted",
        Action::UpdateProfile => "Profile updated",
        Action::SetAup => "Acceptable use policy changed",
        Action::VerifyCaller => "Caller verified by the helpdesk",
        Action::SetHelpdeskMode => "Helpdesk mode changed",
        Action::LinkAccount => "Account linked",
        Action::UnlinkAccount => "Account unlinked",
        Action::LockLinkUnlock => "Lock mail: this was me",
        Action::ReportedNotMe => "Lock mail: this wasn't me (suspicious)",
        Action::SubmitSupportRequest => "Support request sent",
        Action::UpdateSupportRequest => "Support request updated",
        Action::SetSelfUnlockCap => "Self-service unlock cap changed",
    }
}

/// What a user must do at their next sign-in, in the console's words.
pub fn required_action(a: latchkey_types::RequiredAction) -> &'static str {
    use latchkey_types::RequiredAction as R;
    match a {
        R::DeviceAuthorization => "Device authorization (code by email)",
        R::NewAuthenticator => "Set up a new authenticator",
        R::ChangePassword => "Change the temporary password",
        R::AcceptAup => "Accept the acceptable use policy",
        R::UpdateProfile => "Update profile information",
        R::SecurityQuestions => "Set new security questions",
    }
}

/// Why *Resecure* is disabled (seed 002's reasons).
pub fn resecure_block(b: latchkey_types::console::ResecureBlock) -> &'static str {
    use latchkey_types::console::ResecureBlock as B;
    match b {
        B::AupNotAccepted => {
            "The user has not accepted the acceptable use policy on their account."
        }
        B::NotActive => "The user's account is not active (disabled or deleted).",
        B::Locked => "The user's account is locked. Unlock it first.",
    }
}

/// The words for an action's text form as the server sends it in an audit entry.
pub fn action_text(text: &str) -> String {
    text.parse::<Action>()
        .map(|a| action(a).to_owned())
        .unwrap_or_else(|_| text.to_owned())
}

pub fn channel(c: AuditChannel) -> &'static str {
    match c {
        AuditChannel::Web => "Web",
        AuditChannel::Mobile => "Phone",
        AuditChannel::Desktop => "Sign-in screen",
        AuditChannel::Console => "Console",
        AuditChannel::System => "System",
    }
}

pub fn channel_text(text: &str) -> String {
    text.parse::<AuditChannel>()
        .map(|c| channel(c).to_owned())
        .unwrap_or_else(|_| text.to_owned())
}

pub fn outcome(o: Outcome) -> &'static str {
    match o {
        Outcome::Success => "Success",
        Outcome::Failure => "Failure",
        Outcome::Pending => "Pending",
    }
}

pub fn outcome_text(text: &str) -> String {
    text.parse::<Outcome>()
        .map(|o| outcome(o).to_owned())
        .unwrap_or_else(|_| text.to_owned())
}

pub fn factor(f: FactorKind) -> &'static str {
    match f {
        FactorKind::Captcha => "Captcha (proves a person is there)",
        FactorKind::SecurityQuestions => "Security questions",
        FactorKind::EmailCode => "Code by email",
        FactorKind::Totp => "Authenticator app code",
    }
}

pub fn scope(s: FlowScope) -> &'static str {
    match s {
        FlowScope::All => "Every channel without its own steps",
        FlowScope::Web => "Web (desktop browser)",
        FlowScope::Mobile => "Phone and installed app",
        FlowScope::Desktop => "Sign-in screen link",
    }
}

pub fn delivery(s: DeliveryStatus) -> &'static str {
    match s {
        DeliveryStatus::Pending => "Waiting",
        DeliveryStatus::Sent => "Sent",
        DeliveryStatus::Failed => "Failed",
    }
}

/// The words for a mail's kind (`account_locked`, …) as the outbox sends it.
pub fn mail_kind(kind: &str) -> String {
    match kind {
        "account_locked" => "Account locked".to_owned(),
        "account_unlocked" => "Account unlocked".to_owned(),
        "password_reset" => "Password reset".to_owned(),
        "account_resecured" => "Account resecured".to_owned(),
        "mfa_reset" => "Authenticator reset".to_owned(),
        "device_authorization_code" => "Device authorization code".to_owned(),
        "one_time_code" => "One-time code".to_owned(),
        "self_service_blocked" => "Self-service paused".to_owned(),
        "recovery_email_set" => "Recovery address added".to_owned(),
        "support_request_update" => "Support request update".to_owned(),
        other => other.replace('_', " "),
    }
}
