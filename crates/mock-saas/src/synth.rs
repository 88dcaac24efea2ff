//! A generated Microsoft 365 tenant in the ScubaGear provider export schema: the demo customer
//! and the large tenant of the benchmark. Deterministic for a seed; a realistic mix of good and
//! bad settings, with Japanese and English names.

use serde_json::{json, Map, Value};

/// Size of the generated tenant.
#[derive(Debug, Clone, Copy)]
pub struct TenantSize {
    pub users: usize,
    pub privileged_users: usize,
    pub ca_policies: usize,
    pub service_principals: usize,
}

impl TenantSize {
    pub const DEMO: TenantSize = TenantSize {
        users: 480,
        privileged_users: 12,
        ca_policies: 14,
        service_principals: 40,
    };
    pub const LARGE: TenantSize = TenantSize {
        users: 100_000,
        privileged_users: 2_000,
        ca_policies: 500,
        service_principals: 20_000,
    };
}

/// xorshift64*: enough randomness for test data, no dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    fn uuid(&mut self) -> String {
        let a = self.next();
        let b = self.next();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        )
    }
}

const FAMILY_JA: &[&str] = &[
    "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田",
    "松本", "井上", "木村",
];
const GIVEN_JA: &[&str] = &[
    "翔太",
    "美咲",
    "健一",
    "由美",
    "大輔",
    "彩",
    "拓也",
    "陽子",
    "直樹",
    "恵",
    "浩二",
    "真由美",
    "亮",
    "愛",
    "誠",
];
const FAMILY_EN: &[&str] = &[
    "Smith", "Johnson", "Brown", "Taylor", "Wilson", "Clark", "Lewis", "Walker",
];
const GIVEN_EN: &[&str] = &[
    "Emily", "James", "Olivia", "Daniel", "Sophie", "Michael", "Grace", "Thomas",
];
const ROLES: &[(&str, &str)] = &[
    (
        "Global Administrator",
        "62e90394-69f5-4237-9190-012177145e10",
    ),
    (
        "Privileged Role Administrator",
        "e8611ab8-c189-46e8-94e1-60213ab1f814",
    ),
    ("User Administrator", "fe930be7-5e62-47db-91af-98c3a49a38b1"),
    (
        "Groups Administrator",
        "fdd7a751-b60b-444a-984c-02652fe8fa1c",
    ),
    (
        "Application Administrator",
        "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
    ),
    (
        "Cloud Application Administrator",
        "158c047a-c907-4556-b7ef-446551a6b5f7",
    ),
    (
        "Privileged Authentication Administrator",
        "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
    ),
    (
        "Hybrid Identity Administrator",
        "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2",
    ),
    (
        "Exchange Administrator",
        "29232cdf-9323-42fd-ade2-1d097af3e4de",
    ),
    (
        "SharePoint Administrator",
        "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",
    ),
    (
        "Security Administrator",
        "194ae4cb-b126-40b2-bd5b-6091b380977d",
    ),
];

/// Milliseconds since the epoch as ScubaGear writes them: `/Date(ms)/`.
fn ms_date(ms: i64) -> String {
    format!("/Date({ms})/")
}

fn person(rng: &mut Rng, i: usize) -> (String, String) {
    if rng.chance(80) {
        let family = rng.pick(FAMILY_JA);
        let given = rng.pick(GIVEN_JA);
        (format!("{family} {given}"), format!("user{i:06}"))
    } else {
        let given = rng.pick(GIVEN_EN);
        let family = rng.pick(FAMILY_EN);
        (
            format!("{given} {family}"),
            format!("{}.{}{}", given.to_lowercase(), family.to_lowercase(), i),
        )
    }
}

fn ca_policy(
    rng: &mut Rng,
    name: &str,
    state: &str,
    conditions: Value,
    grant: Value,
    session: Value,
) -> Value {
    json!({
        "Id": rng.uuid(),
        "DisplayName": name,
        "State": state,
        "CreatedDateTime": ms_date(1_700_000_000_000),
        "ModifiedDateTime": ms_date(1_760_000_000_000),
        "DeletedDateTime": null,
        "TemplateId": null,
        "PartialEnablementStrategy": null,
        "Conditions": conditions,
        "GrantControls": grant,
        "SessionControls": session,
    })
}

fn conditions(
    users: Value,
    apps: Value,
    client_apps: &[&str],
    user_risk: &[&str],
    sign_in_risk: &[&str],
) -> Value {
    json!({
        "Applications": apps,
        "Users": users,
        "ClientAppTypes": client_apps,
        "UserRiskLevels": user_risk,
        "SignInRiskLevels": sign_in_risk,
        "Platforms": null, "Locations": null, "Devices": null, "Times": null,
        "DeviceStates": null, "ClientApplications": null, "Agents": null,
    })
}

fn all_users(exclude_users: &[String], exclude_groups: &[String]) -> Value {
    json!({
        "IncludeUsers": ["All"], "ExcludeUsers": exclude_users,
        "IncludeGroups": [], "ExcludeGroups": exclude_groups,
        "IncludeRoles": [], "ExcludeRoles": [],
        "IncludeGuestsOrExternalUsers": null, "ExcludeGuestsOrExternalUsers": null,
    })
}

fn all_apps() -> Value {
    json!({"IncludeApplications": ["All"], "ExcludeApplications": [], "IncludeUserActions": [],
           "IncludeAuthenticationContextClassReferences": [], "ApplicationFilter": null})
}

fn grant(controls: &[&str], strength: Option<&str>) -> Value {
    json!({
        "Operator": "OR",
        "BuiltInControls": controls,
        "AuthenticationStrength": strength.map(|id| json!({"Id": id, "DisplayName": "Phishing-resistant MFA", "AllowedCombinations": ["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"]})),
        "CustomAuthenticationFactors": [],
        "TermsOfUse": [],
    })
}

/// The ScubaGear provider export of a generated tenant.
pub fn m365_tenant(size: TenantSize, seed: u64, tenant_name: &str) -> Value {
    let mut rng = Rng::new(seed);
    let domain = format!("{tenant_name}.onmicrosoft.com");
    let custom_domain = format!("{tenant_name}.co.jp");
    let tenant_id = rng.uuid();
    let break_glass = rng.uuid();
    let mut out = Map::new();
    let mut put = |k: &str, v: Value| {
        out.insert(k.to_string(), v);
    };

    put("baseline_version", json!("1"));
    put("module_version", json!("1.8.0"));
    put("tenant_id", json!(tenant_id));
    put("timestamp_zulu", json!("2026-11-26T00:00:00.000Z"));
    put("report_uuid", json!(rng.uuid()));
    put(
        "scuba_config",
        json!({"ProductNames": ["aad", "defender", "exo", "powerbi", "powerplatform", "sharepoint", "teams", "securitysuite"], "M365Environment": "commercial", "OrgName": tenant_name}),
    );
    put(
        "tenant_details",
        json!([{"DisplayName": tenant_name, "DomainName": domain, "TenantId": tenant_id}]),
    );

    // --- Entra ID: conditional access. The first policies are the baseline set, some of them
    // deliberately weak; the rest are filler typical of large tenants.
    let mfa_strength = "00000000-0000-0000-0000-000000000004";
    let mut policies = vec![
        ca_policy(
            &mut rng,
            "BLOCK - Legacy authentication",
            "enabled",
            conditions(
                all_users(std::slice::from_ref(&break_glass), &[]),
                all_apps(),
                &["exchangeActiveSync", "other"],
                &[],
                &[],
            ),
            grant(&["block"], None),
            Value::Null,
        ),
        ca_policy(
            &mut rng,
            "BLOCK - High user risk",
            "enabled",
            conditions(
                all_users(std::slice::from_ref(&break_glass), &[]),
                all_apps(),
                &["all"],
                &["high"],
                &[],
            ),
            grant(&["block"], None),
            Value::Null,
        ),
        ca_policy(
            &mut rng,
            "BLOCK - High sign-in risk (report only)",
            "enabledForReportingButNotEnforced",
            conditions(all_users(&[], &[]), all_apps(), &["all"], &[], &["high"]),
            grant(&["block"], None),
            Value::Null,
        ),
        ca_policy(
            &mut rng,
            "全ユーザー - 多要素認証を要求",
            "enabled",
            conditions(
                all_users(std::slice::from_ref(&break_glass), &[]),
                all_apps(),
                &["all"],
                &[],
                &[],
            ),
            grant(&["mfa"], None),
            Value::Null,
        ),
        ca_policy(
            &mut rng,
            "管理者 - フィッシング耐性のある MFA",
            "enabled",
            conditions(
                json!({"IncludeUsers": [], "ExcludeUsers": [], "IncludeGroups": [], "ExcludeGroups": [],
                "IncludeRoles": ROLES.iter().take(4).map(|r| r.1).collect::<Vec<_>>(), "ExcludeRoles": [],
                "IncludeGuestsOrExternalUsers": null, "ExcludeGuestsOrExternalUsers": null}),
                all_apps(),
                &["all"],
                &[],
                &[],
            ),
            grant(&[], Some(mfa_strength)),
            Value::Null,
        ),
        ca_policy(
            &mut rng,
            "Session - browser sign-in every 12 hours",
            "enabled",
            conditions(all_users(&[], &[]), all_apps(), &["browser"], &[], &[]),
            Value::Null,
            json!({"SignInFrequency": {"IsEnabled": true, "Type": "hours", "Value": 12, "AuthenticationType": "primaryAndSecondaryAuthentication", "FrequencyInterval": "timeBased"},
                   "PersistentBrowser": {"IsEnabled": true, "Mode": "never"}}),
        ),
    ];
    for i in policies.len()..size.ca_policies {
        let state = *rng.pick(&["enabled", "disabled", "enabledForReportingButNotEnforced"]);
        let name = format!(
            "{} {:03}",
            rng.pick(&[
                "部門アプリ - 社外アクセス制御",
                "Partner portal - compliant device",
                "営業部 - モバイル アクセス",
                "Finance - trusted locations"
            ]),
            i
        );
        let p = ca_policy(
            &mut rng,
            &name,
            state,
            conditions(
                json!({"IncludeUsers": [], "ExcludeUsers": [], "IncludeGroups": [format!("group-{i}")], "ExcludeGroups": [],
                "IncludeRoles": [], "ExcludeRoles": [], "IncludeGuestsOrExternalUsers": null, "ExcludeGuestsOrExternalUsers": null}),
                json!({"IncludeApplications": [format!("app-{i}")], "ExcludeApplications": [], "IncludeUserActions": [],
                       "IncludeAuthenticationContextClassReferences": [], "ApplicationFilter": null}),
                &["all"],
                &[],
                &[],
            ),
            grant(&["compliantDevice", "domainJoinedDevice"], None),
            Value::Null,
        );
        policies.push(p);
    }
    put("conditional_access_policies", Value::Array(policies));

    put(
        "authorization_policies",
        json!([{
            "Id": "authorizationPolicy", "DisplayName": "Authorization Policy",
            "AllowInvitesFrom": "everyone",
            "GuestUserRoleId": "10dae51f-b6af-4016-8d66-8c2a99b929b3",
            "PermissionGrantPolicyIdsAssignedToDefaultUserRole": ["ManagePermissionGrantsForSelf.microsoft-user-default-legacy"],
            "DefaultUserRolePermissions": {"AllowedToCreateApps": true, "AllowedToCreateSecurityGroups": true, "AllowedToCreateTenants": false, "AllowedToReadOtherUsers": true, "AllowedToReadBitlockerKeysForOwnedDevice": true},
            "AllowedToUseSSPR": true, "BlockMsolPowerShell": true, "AllowUserConsentForRiskyApps": false,
            "AllowEmailVerifiedUsersToJoinOrganization": false, "AllowedToSignUpEmailBasedSubscriptions": false, "EnabledPreviewFeatures": [],
        }]),
    );
    put(
        "directory_settings",
        json!([{"Id": rng.uuid(), "TemplateId": "62375ab9-6b52-47ed-826b-58e47e0e304b", "DisplayName": "Group.Unified",
        "Values": [{"Name": "EnableGroupCreation", "Value": "true"}, {"Name": "EnableAdminConsentRequests", "Value": "false"}]}]),
    );

    // Privileged users and role assignments: a few permanent global admins, some via PIM.
    let mut privileged_users = Map::new();
    let mut mamori_users = Vec::new();
    let mut assignments: Vec<Vec<Value>> = vec![Vec::new(); ROLES.len()];
    for i in 0..size.privileged_users {
        let id = if i == 0 {
            break_glass.clone()
        } else {
            rng.uuid()
        };
        let (name, _) = if i == 0 {
            (
                "緊急アクセス用アカウント (break-glass)".to_string(),
                String::new(),
            )
        } else {
            person(&mut rng, i)
        };
        let role_index = if i < 7 {
            0
        } else {
            1 + rng.below(ROLES.len() - 1)
        };
        let (role_name, role_id) = ROLES[role_index];
        let permanent = i < 7 || rng.chance(30);
        // Mamori's own collector adds sign-in activity and registered methods: most admins use
        // a passkey and signed in this week; a few rely on the Authenticator app; one is stale.
        let last_sign_in = if i % 11 == 5 {
            "2026-06-01T09:00:00Z"
        } else {
            "2026-11-24T09:00:00Z"
        };
        let method = if i == 0 || i % 4 == 0 {
            "#microsoft.graph.fido2AuthenticationMethod"
        } else if i % 4 == 1 {
            "#microsoft.graph.windowsHelloForBusinessAuthenticationMethod"
        } else {
            "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod"
        };
        mamori_users.push(json!({
            "id": id, "displayName": name, "userPrincipalName": format!("admin{i:04}@{tenant_name}.co.jp"),
            "userType": "Member", "accountEnabled": true,
            "signInActivity": {"lastSuccessfulSignInDateTime": last_sign_in},
            "authenticationMethods": [{"@odata.type": "#microsoft.graph.passwordAuthenticationMethod", "id": "pw"}, {"@odata.type": method, "id": format!("m{i}")}],
            "roleAssignments": [{"roleDefinitionId": role_id, "roleDefinition": {"displayName": role_name, "isBuiltIn": true, "isPrivileged": true}}],
        }));
        privileged_users.insert(id.clone(), json!({"DisplayName": name, "roles": [role_name],
            "OnPremisesImmutableId": if i == 3 { json!("b3BwcmVtLXN5bmNlZA==") } else { Value::Null }}));
        assignments[role_index].push(json!({
            "PrincipalId": id, "RoleDefinitionId": role_id, "DirectoryScopeId": "/", "MemberType": "Direct",
            "AssignmentType": if permanent { "Assigned" } else { "Activated" },
            "StartDateTime": ms_date(1_700_000_000_000), "EndDateTime": if permanent { Value::Null } else { json!(ms_date(1_800_000_000_000)) },
        }));
    }
    put("privileged_users", Value::Object(privileged_users));
    put("mamori_collected_at", json!("2026-11-26T00:00:00Z"));
    put("mamori_users", Value::Array(mamori_users));
    let graph_sp = "sp-microsoft-graph";
    put(
        "mamori_service_principals",
        json!([
            {"id": graph_sp, "appId": "00000003-0000-0000-c000-000000000000", "displayName": "Microsoft Graph", "appOwnerOrganizationId": "f8cdef31-a31e-4b4a-93e4-5f571e91255a"},
            {"id": "sp-expense", "appId": rng.uuid(), "displayName": "経費精算クラウド", "appOwnerOrganizationId": rng.uuid()},
            {"id": "sp-mailmerge", "appId": rng.uuid(), "displayName": "MailMerge Pro", "appOwnerOrganizationId": rng.uuid()},
        ]),
    );
    put(
        "mamori_oauth2_permission_grants",
        json!([
            {"id": "g1", "clientId": "sp-expense", "consentType": "AllPrincipals", "principalId": null, "resourceId": graph_sp, "scope": "openid profile User.Read"},
            {"id": "g2", "clientId": "sp-mailmerge", "consentType": "AllPrincipals", "principalId": null, "resourceId": graph_sp, "scope": "openid Mail.ReadWrite Mail.Send"},
        ]),
    );
    put("privileged_roles", Value::Array(ROLES.iter().zip(assignments).map(|((name, id), a)| json!({
        "DisplayName": name, "RoleTemplateId": id, "Assignments": a,
        "Rules": [
            {"Id": "Expiration_Admin_Assignment", "@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyExpirationRule", "RuleSource": name, "RuleSourceType": "Directory Role", "IsExpirationRequired": *name != "Global Administrator", "MaximumDuration": "P180D",
             "Target": {"Caller": "Admin", "Level": "Assignment", "Operations": ["All"]}},
            {"Id": "Approval_EndUser_Assignment", "@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyApprovalRule", "RuleSource": name, "RuleSourceType": "Directory Role",
             "Setting": {"IsApprovalRequired": *name == "Global Administrator"}, "Target": {"Caller": "EndUser", "Level": "Assignment", "Operations": ["All"]}},
            {"Id": "Notification_Admin_Admin_Assignment", "@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyNotificationRule", "RuleSource": name, "RuleSourceType": "Directory Role",
             "NotificationRecipients": ["security@example.co.jp"], "IsDefaultRecipientsEnabled": true, "NotificationLevel": "All", "RecipientType": "Admin",
             "Target": {"Caller": "Admin", "Level": "Assignment", "Operations": ["All"]}},
            {"Id": "Notification_Admin_Admin_Eligibility", "@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyNotificationRule", "RuleSource": name, "RuleSourceType": "Directory Role",
             "NotificationRecipients": [], "IsDefaultRecipientsEnabled": true, "NotificationLevel": "All", "RecipientType": "Admin",
             "Target": {"Caller": "Admin", "Level": "Eligibility", "Operations": ["All"]}},
            {"Id": "Notification_Admin_EndUser_Assignment", "@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyNotificationRule", "RuleSource": name, "RuleSourceType": "Directory Role",
             "NotificationRecipients": [], "IsDefaultRecipientsEnabled": true, "NotificationLevel": "All", "RecipientType": "Admin",
             "Target": {"Caller": "EndUser", "Level": "Assignment", "Operations": ["All"]}},
        ],
    })).collect()));
    put("privileged_service_principals", json!({}));

    // Service principals: most first-party, some third-party apps with risky application permissions.
    let mut sps = Vec::new();
    let mut risky_apps = Vec::new();
    for i in 0..size.service_principals {
        let name = format!(
            "{} {}",
            rng.pick(&[
                "経費精算",
                "勤怠管理",
                "CRM Connector",
                "Backup Service",
                "Survey",
                "Analytics"
            ]),
            i
        );
        let risky = rng.chance(5);
        let permission = if risky {
            "Mail.ReadWrite"
        } else {
            "User.Read.All"
        };
        let entry = json!({
            "ObjectId": rng.uuid(), "AppId": rng.uuid(), "DisplayName": name, "SignInAudience": "AzureADMultipleOrgs",
            "KeyCredentials": null, "PasswordCredentials": null, "FederatedCredentials": null,
            "AppOwnerOrganizationId": rng.uuid(),
            "Permissions": [{"RoleId": rng.uuid(), "RoleType": "Application", "RoleDisplayName": permission, "ApplicationDisplayName": "Microsoft Graph", "IsAdminConsented": true, "IsRisky": risky}],
        });
        if risky {
            risky_apps.push(json!({"ObjectId": {"Application": rng.uuid(), "ServicePrincipal": entry["ObjectId"].clone()}, "AppId": entry["AppId"].clone(),
                "DisplayName": name, "IsMultiTenantEnabled": true, "KeyCredentials": null, "PasswordCredentials": [{"KeyId": rng.uuid(), "DisplayName": "secret", "StartDateTime": ms_date(1_700_000_000_000), "EndDateTime": ms_date(1_900_000_000_000), "IsFromApplication": true}],
                "FederatedCredentials": null, "Permissions": entry["Permissions"].clone()}));
        }
        sps.push(entry);
    }
    put("risky_third_party_service_principals", Value::Array(sps));
    put("risky_applications", Value::Array(risky_apps));
    put("risky_delegated_permission_classifications", json!([]));
    put("legacy_exchange_service_principal", json!([]));
    put("dedicated_exchange_hybrid_applications", json!([]));

    let restriction = |kind: &str, lifetime: Option<&str>| json!({"RestrictionType": kind, "State": "enabled", "MaxLifetime": lifetime, "RestrictForAppsCreatedAfterDateTime": null});
    let restrictions = json!({
        "PasswordCredentials": [restriction("passwordAddition", None), restriction("symmetricKeyAddition", None), restriction("passwordLifetime", Some("P365D")), restriction("symmetricKeyLifetime", Some("P365D"))],
        "KeyCredentials": [restriction("asymmetricKeyLifetime", Some("P365D"))],
    });
    put(
        "default_app_management_policy",
        json!([{"Id": "00000000-0000-0000-0000-000000000000", "DisplayName": "Default app management tenant policy", "IsEnabled": true,
        "ApplicationRestrictions": restrictions.clone(), "ServicePrincipalRestrictions": restrictions}]),
    );
    put(
        "authentication_method",
        json!([
            {"authentication_method_policy": {"PolicyMigrationState": "migrationComplete", "Id": "authenticationMethodsPolicy"}},
            {"authentication_method_feature_settings": [
                {"Id": "MicrosoftAuthenticator", "State": "enabled", "AdditionalProperties": {"featureSettings": {"displayLocationInformationRequiredState": {"state": "enabled"}, "displayAppInformationRequiredState": {"state": "enabled"}, "numberMatchingRequiredState": {"state": "enabled"}}}},
                {"Id": "Sms", "State": "enabled"}, {"Id": "Voice", "State": "disabled"}, {"Id": "Email", "State": "disabled"},
                {"Id": "Fido2", "State": "enabled"}, {"Id": "X509Certificate", "State": "disabled"},
            ]},
        ]),
    );
    put(
        "domain_settings",
        json!([
            {"Id": domain, "IsDefault": false, "IsVerified": true, "AuthenticationType": "Managed", "PasswordValidityPeriodInDays": 2147483647},
            {"Id": custom_domain, "IsDefault": true, "IsVerified": true, "AuthenticationType": "Managed", "PasswordValidityPeriodInDays": 90},
        ]),
    );
    put(
        "service_plans",
        json!([
            {"ServicePlanName": "AAD_PREMIUM_P2", "ServicePlanId": "eec0eb4f-6444-4f95-aba0-50c24d67f998", "ProvisioningStatus": "Success", "AppliesTo": "Company"},
            {"ServicePlanName": "EXCHANGE_S_ENTERPRISE", "ServicePlanId": "efb87545-963c-4e0d-99df-69c6916d9eb0", "ProvisioningStatus": "Success", "AppliesTo": "User"},
            {"ServicePlanName": "ATP_ENTERPRISE", "ServicePlanId": "f20fedf3-f3c3-43c3-8267-2bfdd51c0939", "ProvisioningStatus": "Success", "AppliesTo": "User"},
        ]),
    );
    put(
        "license_information",
        json!([{"SkuPartNumber": "SPE_E5", "SkuId": "06ebc4ee-1bb5-47dd-8120-11324bc54e06", "ConsumedUnits": size.users, "PrepaidUnits": {"Enabled": size.users + 20, "Warning": 0, "Suspended": 0, "LockedOut": 0}}]),
    );
    put(
        "license_state",
        json!([{"state": "Active", "is_expired": false, "is_expiring_soon": false, "has_active_plans": true, "has_any_sku": true}]),
    );
    put("total_user_count", json!(size.users));
    put("cap_table_data", json!([]));
    put(
        "aad_successful_commands",
        json!([
            "Get-MgBetaIdentityConditionalAccessPolicy",
            "Get-MgBetaSubscribedSku",
            "Get-PrivilegedUser",
            "Get-PrivilegedRole",
            "Get-MgBetaUserCount",
            "Get-MgBetaPolicyAuthorizationPolicy",
            "Get-MgBetaDirectorySetting",
            "Get-MgBetaPolicyAuthenticationMethodPolicy",
            "Get-MgBetaDomain",
            "Get-ApplicationsWithRiskyPermissions",
            "Get-ServicePrincipalsWithRiskyPermissions",
            "Format-RiskyApplications",
            "Format-RiskyThirdPartyServicePrincipals",
            "Get-ServicePrincipalsWithRiskyDelegatedPermissionClassifications",
            "Get-LegacyExchangeServicePrincipal",
            "Get-DedicatedExchangeHybridApplications"
        ]),
    );
    put("aad_unsuccessful_commands", json!([]));

    // --- Exchange Online.
    let domains = [
        domain.clone(),
        custom_domain.clone(),
        format!("mail.{tenant_name}.jp"),
    ];
    put("accepted_domains", Value::Array(domains.iter().map(|d| json!({"DomainName": d, "DomainType": "Authoritative", "Default": *d == custom_domain})).collect()));
    put(
        "remote_domains",
        json!([{"DomainName": "*", "Identity": "Default", "AutoForwardEnabled": false}, {"DomainName": "partner.example.com", "Identity": "Partner", "AutoForwardEnabled": true}]),
    );
    put(
        "spf_records",
        Value::Array(
            domains
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    let record = if i == 2 {
                        "v=spf1 include:spf.protection.outlook.com ~all".to_string()
                    } else {
                        "v=spf1 include:spf.protection.outlook.com -all".to_string()
                    };
                    json!({"domain": d, "rdata": [record], "log": []})
                })
                .collect(),
        ),
    );
    put(
        "dkim_config",
        Value::Array(
            domains
                .iter()
                .enumerate()
                .map(|(i, d)| json!({"Domain": d, "Enabled": i != 2, "Selector1KeySize": 2048}))
                .collect(),
        ),
    );
    put("dkim_records", Value::Array(domains.iter().enumerate().map(|(i, d)| json!({"domain": d, "rdata": if i != 2 { json!(["v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]) } else { json!([]) }, "log": []})).collect()));
    put("dmarc_records", Value::Array(domains.iter().enumerate().map(|(i, d)| {
        let record = match i { 0 => "v=DMARC1; p=reject; pct=100; rua=mailto:reports@dmarc.cyber.dhs.gov, mailto:dmarc@example.co.jp; ruf=mailto:security@example.co.jp", 1 => "v=DMARC1; p=quarantine; pct=100; rua=mailto:dmarc@example.co.jp", _ => "v=DMARC1; p=none" };
        json!({"domain": d, "rdata": [record], "log": []})
    }).collect()));
    put(
        "transport_config",
        json!([{"Name": "Transport Settings", "SmtpClientAuthenticationDisabled": true}]),
    );
    put(
        "sharing_policy",
        json!([{"Name": "Default Sharing Policy", "Identity": "Default Sharing Policy", "Enabled": true, "Default": true, "Domains": ["*:CalendarSharingFreeBusySimple", "partner.example.com:CalendarSharingFreeBusyDetail"]}]),
    );
    put(
        "transport_rule",
        json!([{"Name": "外部メールの警告表示", "State": "Enabled", "Mode": "Enforce", "Priority": 0, "FromScope": "NotInOrganization", "SetSCL": null, "PrependSubject": "[外部]", "ApplyHtmlDisclaimerText": "この電子メールは組織外から送信されました。"}]),
    );
    put(
        "conn_filter",
        json!([{"Identity": "Default", "Name": "Default", "IsDefault": true, "IPAllowList": ["203.0.113.10"], "IPBlockList": [], "EnableSafeList": false}]),
    );
    put(
        "org_config",
        json!([{"Name": domain, "DisplayName": tenant_name, "AuditDisabled": false, "OAuth2ClientProfileEnabled": true, "CustomerLockboxEnabled": false}]),
    );
    put("inbound_connectors", json!([]));
    put("outbound_connectors", json!([]));
    put("intra_org_connectors", json!([]));
    put("org_relationships", json!([]));
    put(
        "exo_successful_commands",
        json!([
            "Get-RemoteDomain",
            "Get-AcceptedDomain",
            "Get-ScubaSpfRecord",
            "Get-DkimSigningConfig",
            "Get-ScubaDkimRecord",
            "Get-ScubaDmarcRecord",
            "Get-TransportConfig",
            "Get-SharingPolicy",
            "Get-TransportRule",
            "Get-HostedConnectionFilterPolicy",
            "Get-OrganizationConfig",
            "Get-InboundConnector",
            "Get-OutboundConnector",
            "Get-IntraOrganizationConnector",
            "Get-OrganizationRelationship"
        ]),
    );
    put("exo_unsuccessful_commands", json!([]));

    // --- Security suite (Defender for Office 365, EOP, Purview).
    let standard = "Standard Preset Security Policy1700000000000";
    let strict = "Strict Preset Security Policy1700000000001";
    put(
        "protection_policy_rules",
        json!([
            {"Identity": strict, "Name": strict, "State": "Enabled", "Priority": 0, "HostedContentFilterPolicy": strict, "AntiPhishPolicy": strict, "MalwareFilterPolicy": strict, "SentTo": null, "SentToMemberOf": ["executives@example.co.jp"], "RecipientDomainIs": null, "ExceptIfSentTo": null, "ExceptIfSentToMemberOf": null, "ExceptIfRecipientDomainIs": null},
            {"Identity": standard, "Name": standard, "State": "Enabled", "Priority": 1, "HostedContentFilterPolicy": standard, "AntiPhishPolicy": standard, "MalwareFilterPolicy": standard, "SentTo": null, "SentToMemberOf": null, "RecipientDomainIs": [custom_domain], "ExceptIfSentTo": null, "ExceptIfSentToMemberOf": null, "ExceptIfRecipientDomainIs": null},
        ]),
    );
    put(
        "atp_policy_rules",
        json!([
            {"Identity": strict, "Name": strict, "State": "Enabled", "Priority": 0, "SafeAttachmentPolicy": strict, "SafeLinksPolicy": strict, "SentTo": null, "SentToMemberOf": ["executives@example.co.jp"], "RecipientDomainIs": null},
            {"Identity": standard, "Name": standard, "State": "Enabled", "Priority": 1, "SafeAttachmentPolicy": standard, "SafeLinksPolicy": standard, "SentTo": null, "SentToMemberOf": null, "RecipientDomainIs": [custom_domain]},
        ]),
    );
    put(
        "anti_phish_policies",
        json!([
            {"Identity": "Office365 AntiPhish Default", "Name": "Office365 AntiPhish Default", "IsDefault": true, "Enabled": true, "EnableTargetedUserProtection": false, "EnableOrganizationDomainsProtection": false, "EnableMailboxIntelligenceProtection": true, "EnableFirstContactSafetyTips": false, "TargetedUsersToProtect": [], "TargetedUserProtectionAction": "NoAction", "MailboxIntelligenceProtectionAction": "NoAction", "EnableSpoofIntelligence": true},
            {"Identity": strict, "Name": strict, "IsDefault": false, "Enabled": true, "EnableTargetedUserProtection": true, "EnableOrganizationDomainsProtection": true, "EnableMailboxIntelligenceProtection": true, "EnableFirstContactSafetyTips": true, "TargetedUsersToProtect": ["社長;ceo@example.co.jp"], "TargetedUserProtectionAction": "Quarantine", "TargetedDomainProtectionAction": "Quarantine", "MailboxIntelligenceProtectionAction": "Quarantine", "EnableSimilarUsersSafetyTips": true, "EnableSimilarDomainsSafetyTips": true, "EnableUnusualCharactersSafetyTips": true},
        ]),
    );
    put("anti_phish_rules", json!([]));
    put(
        "hosted_content_filter_policies",
        json!([{"Identity": "Default", "Name": "Default", "IsDefault": true, "SpamAction": "MoveToJmf", "HighConfidenceSpamAction": "MoveToJmf", "PhishSpamAction": "MoveToJmf", "HighConfidencePhishAction": "Quarantine", "BulkSpamAction": "MoveToJmf", "AllowedSenderDomains": ["newsletter.example.com"], "ZapEnabled": true}]),
    );
    put(
        "malware_filter_policies",
        json!([{"Identity": "Default", "Name": "Default", "IsDefault": true, "EnableFileFilter": true, "FileTypes": ["ace", "ani", "apk", "app", "cab", "cmd", "com", "deb", "dmg", "exe", "hta", "img", "iso", "jar", "js", "jse", "lnk", "msi", "ps1", "reg", "scr", "vb", "vbe", "vbs", "wsc", "wsf", "wsh"], "ZapEnabled": true}]),
    );
    put("safe_attachment_policies", json!([]));
    put("safe_links_policies", json!([]));
    put(
        "atp_policy_for_o365",
        json!([{"Identity": "Default", "EnableATPForSPOTeamsODB": true, "EnableSafeDocs": true, "AllowSafeDocsOpen": false}]),
    );
    put(
        "dlp_compliance_policies",
        json!([{"Name": "個人情報保護（マイナンバー）", "DisplayName": "個人情報保護（マイナンバー）", "Mode": "Enable", "Enabled": true, "Type": "Dlp", "Workload": "Exchange, SharePoint, OneDriveForBusiness, Teams",
        "ExchangeLocation": ["All"], "SharePointLocation": ["All"], "OneDriveLocation": ["All"], "TeamsLocation": ["All"], "EndpointDlpLocation": [], "ExchangeLocationException": [], "SharePointLocationException": [], "OneDriveLocationException": [], "TeamsLocationException": []}]),
    );
    put(
        "dlp_compliance_rules",
        json!([{"Name": "マイナンバーの外部共有を禁止", "ParentPolicyName": "個人情報保護（マイナンバー）", "Disabled": false, "Mode": "Enforce", "BlockAccess": true, "BlockAccessScope": "All", "NotifyUser": ["SiteAdmin", "LastModifier", "Owner"],
        "ContentContainsSensitiveInformation": [{"name": "Japan My Number - Personal", "id": "c840e719-0896-45bb-84fd-1ed5c95e45ff"}, {"name": "Japan Bank Account Number"}, {"name": "U.S. Social Security Number (SSN)"}, {"name": "Credit Card Number"}, {"name": "U.S. Individual Taxpayer Identification Number (ITIN)"}]}]),
    );
    put(
        "protection_alerts",
        json!([
            {"Name": "Suspicious email sending patterns detected", "Disabled": false, "NotifyUser": ["security@example.co.jp"]},
            {"Name": "Suspicious Connector Activity", "Disabled": false, "NotifyUser": ["security@example.co.jp"]},
            {"Name": "Suspicious Email Forwarding Activity", "Disabled": true, "NotifyUser": []},
            {"Name": "Messages have been delayed", "Disabled": false, "NotifyUser": []},
            {"Name": "Tenant restricted from sending unprovisioned email", "Disabled": false, "NotifyUser": []},
            {"Name": "Tenant restricted from sending email", "Disabled": false, "NotifyUser": []},
            {"Name": "A potentially malicious URL click was detected", "Disabled": false, "NotifyUser": []},
            {"Name": "User restricted from sending email", "Disabled": false, "NotifyUser": []},
        ]),
    );
    put(
        "admin_audit_log_config",
        json!([{"Name": "Admin Audit Log Settings", "AdminAuditLogEnabled": true, "UnifiedAuditLogIngestionEnabled": true, "AdminAuditLogAgeLimit": "90.00:00:00"}]),
    );
    put("defender_license", json!(true));
    put("defender_dlp_license", json!(true));
    put(
        "securitysuite_successful_commands",
        json!([
            "Get-AdminAuditLogConfig",
            "Get-EOPProtectionPolicyRule",
            "Get-AntiPhishPolicy",
            "Get-AntiPhishRule",
            "Get-AcceptedDomain",
            "Get-HostedConnectionFilterPolicy",
            "Get-HostedContentFilterPolicy",
            "Get-HostedContentFilterRule",
            "Get-AtpPolicyForO365",
            "Get-ATPProtectionPolicyRule",
            "Get-DlpCompliancePolicy",
            "Get-ProtectionAlert",
            "Get-DlpComplianceRule",
            "Get-MalwareFilterPolicy",
            "Get-SafeAttachmentPolicy",
            "Get-SafeLinksPolicy"
        ]),
    );
    put("securitysuite_unsuccessful_commands", json!([]));

    // --- SharePoint and OneDrive: internal sharing for SharePoint, guests for OneDrive.
    put(
        "SPO_tenant",
        json!([{"SharingCapability": 3, "ODBSharingCapability": 1, "SharingDomainRestrictionMode": 1, "SharingAllowedDomainList": "partner.example.com",
        "DefaultSharingLinkType": 1, "DefaultLinkPermission": 1, "RequireAnonymousLinksExpireInDays": -1, "FileAnonymousLinkType": 2, "FolderAnonymousLinkType": 2,
        "EmailAttestationRequired": true, "EmailAttestationReAuthDays": 15}]),
    );
    put("OneDrive_PnP_Flag", json!(false));
    put(
        "SharePoint_successful_commands",
        json!(["Get-SPOTenantRest"]),
    );
    put("SharePoint_unsuccessful_commands", json!([]));

    // --- Teams.
    put(
        "teams_tenant_info",
        json!([{"DisplayName": tenant_name, "AssignedPlan": ["MCOEV", "Teams1", "MCOMEETADV"], "CountryAbbreviation": "JP"}]),
    );
    put(
        "meeting_policies",
        json!([
            {"Identity": "Global", "AllowExternalParticipantGiveRequestControl": false, "AllowAnonymousUsersToJoinMeeting": true, "AllowAnonymousUsersToStartMeeting": false, "AutoAdmittedUsers": "EveryoneInCompanyExcludingGuests", "AllowPSTNUsersToBypassLobby": false, "MeetingChatEnabledType": "Enabled", "AllowCloudRecording": true, "AllowRecordingStorageOutsideRegion": false, "AllowExternalNonTrustedMeetingChat": false, "DesignatedPresenterRoleMode": "EveryoneUserOverride"},
            {"Identity": "Tag:営業部", "AllowExternalParticipantGiveRequestControl": true, "AllowAnonymousUsersToJoinMeeting": true, "AllowAnonymousUsersToStartMeeting": true, "AutoAdmittedUsers": "Everyone", "AllowPSTNUsersToBypassLobby": true, "MeetingChatEnabledType": "Enabled", "AllowCloudRecording": true, "AllowRecordingStorageOutsideRegion": true, "AllowExternalNonTrustedMeetingChat": true},
        ]),
    );
    put(
        "federation_configuration",
        json!([{"Identity": "Global", "AllowFederatedUsers": true, "AllowedDomains": {"AllowedDomain": ["Domain=partner.example.com"]}, "BlockedDomains": [], "AllowTeamsConsumer": true, "AllowTeamsConsumerInbound": false, "AllowPublicUsers": false}]),
    );
    put(
        "client_configuration",
        json!([{"Identity": "Global", "AllowEmailIntoChannel": false, "AllowDropBox": false, "AllowBox": false, "AllowGoogleDrive": false, "AllowShareFile": false, "AllowEgnyte": false}]),
    );
    put(
        "app_policies",
        json!([{"Identity": "Global", "DefaultCatalogAppsType": "BlockedAppList", "GlobalCatalogAppsType": "AllowedAppList", "PrivateCatalogAppsType": "AllowedAppList", "DefaultCatalogApps": [], "GlobalCatalogApps": [], "PrivateCatalogApps": []}]),
    );
    put(
        "broadcast_policies",
        json!([{"Identity": "Global", "BroadcastRecordingMode": "UserOverride", "AllowBroadcastTranscription": false}]),
    );
    put(
        "tenant_app_settings",
        json!([{"SettingName": "DefaultApp", "SettingValue": "None"}, {"SettingName": "GlobalApp", "SettingValue": "All"}, {"SettingName": "PrivateApp", "SettingValue": "None"}]),
    );
    put(
        "teams_successful_commands",
        json!([
            "Get-CsTenant",
            "Get-CsTeamsMeetingPolicy",
            "Get-CsTenantFederationConfiguration",
            "Get-CsTeamsClientConfiguration",
            "Get-CsTeamsAppPermissionPolicy",
            "Get-CsTeamsMeetingBroadcastPolicy",
            "Get-M365UnifiedTenantSettings"
        ]),
    );
    put("teams_unsuccessful_commands", json!([]));

    // --- Power Platform.
    put(
        "environment_creation",
        json!([{"disableEnvironmentCreationByNonAdminUsers": true, "disableTrialEnvironmentCreationByNonAdminUsers": false, "disablePortalsCreationByNonAdminUsers": false}]),
    );
    put(
        "environment_list",
        json!([
            {"EnvironmentName": format!("Default-{tenant_id}"), "DisplayName": format!("{tenant_name} (default)"), "IsDefault": true, "EnvironmentType": "Default"},
            {"EnvironmentName": rng.uuid(), "DisplayName": "本番 - 業務アプリ", "IsDefault": false, "EnvironmentType": "Production"},
        ]),
    );
    put("dlp_policies", json!([{"value": []}]));
    put(
        "tenant_isolation",
        json!([{"properties": {"tenantId": tenant_id, "isDisabled": true, "allowedTenants": []}}]),
    );
    put(
        "powerplatform_successful_commands",
        json!([
            "Get-MgBetaOrganization",
            "Get-PowerPlatformTenantSettingsRest",
            "Get-PowerPlatformEnvironmentsRest",
            "Get-PowerPlatformDlpPoliciesRest",
            "Get-PowerPlatformTenantIsolationRest"
        ]),
    );
    put("powerplatform_unsuccessful_commands", json!([]));

    // Sections written by hand for the demo customer (security-suite policies and rules, …),
    // merged over the generated ones.
    if let Ok(Value::Object(extra)) = serde_json::from_str::<Value>(DEMO_SECTIONS) {
        for (k, v) in extra {
            out.insert(k, v);
        }
    }
    // The break-glass account is exempted from the conditional access and permanent-assignment
    // checks, as the baseline allows; its id is generated, so the exemption is added here.
    let exempt = json!({"CapExclusions": {"Users": [break_glass.clone()], "Groups": []}});
    let mut aad = Map::new();
    for id in [
        "MS.AAD.1.1v1",
        "MS.AAD.2.1v1",
        "MS.AAD.2.3v1",
        "MS.AAD.3.1v1",
        "MS.AAD.3.2v2",
        "MS.AAD.3.6v1",
        "MS.AAD.3.7v1",
        "MS.AAD.3.8v1",
        "MS.AAD.3.9v1",
    ] {
        aad.insert(id.to_string(), exempt.clone());
    }
    aad.insert(
        "MS.AAD.7.4v1".to_string(),
        json!({"RoleExclusions": {"Users": [break_glass.clone()], "Groups": []}}),
    );
    if let Some(Value::Object(config)) = out.get_mut("scuba_config") {
        config.insert("Aad".to_string(), Value::Object(aad));
    }
    Value::Object(out)
}

/// Hand-written sections of the demo tenant: a JSON object of top-level export sections.
const DEMO_SECTIONS: &str = include_str!("demo_sections.json");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_written_demo_sections_are_a_json_object() {
        let v: Value = serde_json::from_str(DEMO_SECTIONS).expect("demo_sections.json is JSON");
        assert!(
            v.is_object(),
            "demo_sections.json must be an object of sections"
        );
    }

    #[test]
    fn same_seed_same_tenant_and_sizes_are_honoured() {
        let a = m365_tenant(TenantSize::DEMO, 7, "sakura-trading");
        let b = m365_tenant(TenantSize::DEMO, 7, "sakura-trading");
        assert_eq!(a, b);
        assert_eq!(
            a["conditional_access_policies"].as_array().unwrap().len(),
            TenantSize::DEMO.ca_policies
        );
        assert_eq!(
            a["privileged_users"].as_object().unwrap().len(),
            TenantSize::DEMO.privileged_users
        );
        assert_eq!(
            a["risky_third_party_service_principals"]
                .as_array()
                .unwrap()
                .len(),
            TenantSize::DEMO.service_principals
        );
        let c = m365_tenant(TenantSize::DEMO, 8, "sakura-trading");
        assert_ne!(a["privileged_users"], c["privileged_users"]);
    }
}

/// The hand-written Google Workspace export of the demo customer (ScubaGoggles provider schema
/// plus Mamori's extension sections).
const DEMO_GWS: &str = include_str!("demo_gws.json");

/// Size of a generated Google Workspace tenant.
#[derive(Debug, Clone, Copy)]
pub struct GwsSize {
    pub users: usize,
    pub org_units: usize,
}

impl GwsSize {
    pub const LARGE: GwsSize = GwsSize {
        users: 50_000,
        org_units: 2_000,
    };
}

/// The demo customer's Google Workspace export.
pub fn gws_demo() -> Value {
    serde_json::from_str(DEMO_GWS).expect("demo_gws.json is valid JSON (checked by a test)")
}

/// A large Google Workspace tenant grown from the demo one: `org_units` OUs under the top-level
/// OU, each with its own policy overrides (cycled from the demo's child OUs), and `users` users
/// spread over them.
pub fn gws_tenant(size: GwsSize, seed: u64) -> Value {
    let mut rng = Rng::new(seed);
    let mut tenant = gws_demo();
    let top = tenant["tenant_info"]["topLevelOU"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let domain = tenant["tenant_info"]["domain"]
        .as_str()
        .unwrap_or("example.co.jp")
        .to_string();

    // Per-OU overrides to cycle through: the demo's own child-OU settings.
    let overrides: Vec<Value> = tenant["policies"]
        .as_object()
        .map(|p| {
            p.iter()
                .filter(|(name, _)| name.as_str() != top && !name.contains("(group "))
                .map(|(_, v)| v.clone())
                .collect()
        })
        .unwrap_or_default();

    let mut units = Vec::with_capacity(size.org_units);
    let mut ou_names: Vec<String> = Vec::with_capacity(size.org_units);
    for i in 0..size.org_units {
        let name = format!(
            "{} {:04}",
            rng.pick(&[
                "営業部",
                "経理部",
                "開発部",
                "Sales",
                "Engineering",
                "人事部"
            ]),
            i
        );
        units.push(json!({
            "kind": "admin#directory#orgUnit",
            "name": name,
            "orgUnitPath": format!("/{name}"),
            "orgUnitId": format!("id:{:015x}", rng.next() >> 4),
            "parentOrgUnitPath": "/",
            "parentOrgUnitId": "id:000000000000000",
        }));
        ou_names.push(name.clone());
        if !overrides.is_empty() {
            let o = overrides[i % overrides.len()].clone();
            if let Some(policies) = tenant["policies"].as_object_mut() {
                policies.insert(name, o);
            }
        }
    }
    if let Some(existing) = tenant["organizational_units"]["organizationUnits"].as_array_mut() {
        existing.extend(units);
    }
    if let Some(existing) = tenant["organizational_unit_names"].as_array_mut() {
        existing.extend(ou_names.iter().map(|n| Value::String(n.clone())));
    }

    // Users: copies of the demo's users with new identities, spread over the OUs.
    let templates: Vec<Value> = tenant["mamori_users"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !templates.is_empty() {
        let mut users = Vec::with_capacity(size.users);
        for i in 0..size.users {
            let mut u = templates[i % templates.len()].clone();
            let (display, local) = person(&mut rng, i);
            if let Some(obj) = u.as_object_mut() {
                obj.insert(
                    "id".into(),
                    json!(format!("{:021}", rng.next() % 10u64.pow(18))),
                );
                obj.insert("primaryEmail".into(), json!(format!("{local}@{domain}")));
                obj.insert("name".into(), json!({"fullName": display}));
                if !ou_names.is_empty() {
                    obj.insert(
                        "orgUnitPath".into(),
                        json!(format!("/{}", ou_names[i % ou_names.len()])),
                    );
                }
            }
            users.push(u);
        }
        tenant["mamori_users"] = Value::Array(users);
    }
    tenant
}

#[cfg(test)]
mod gws_tests {
    use super::*;

    #[test]
    fn demo_gws_parses_and_large_tenant_has_the_asked_size() {
        let demo = gws_demo();
        assert!(demo["tenant_info"]["topLevelOU"].is_string());
        let large = gws_tenant(
            GwsSize {
                users: 300,
                org_units: 40,
            },
            1,
        );
        let policies = large["policies"].as_object().unwrap().len();
        assert!(policies >= 40, "{policies} policy scopes");
        assert_eq!(
            large["mamori_users"]
                .as_array()
                .map(Vec::len)
                .unwrap_or(300),
            300
        );
    }
}
