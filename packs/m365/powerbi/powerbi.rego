# Power BI: tenant settings read from the Power BI admin REST API (powerbi_tenant_settings),
# judged only when the provider found a Power BI license (powerbi_license_found).
package mamori.m365.powerbi

import data.mamori.m365.lib
import rego.v1

# How each control judges its tenant setting:
#   off            the setting must be disabled
#   on             the setting must be enabled
#   off_or_groups  disabled, or enabled for specific security groups only
checks := {
	"MS.POWERBI.1.1v1": {"setting": "PublishToWeb", "rule": "off", "en": "Publish to web", "ja": "Web に公開"},
	"MS.POWERBI.2.1v1": {"setting": "AllowGuestUserToAccessSharedContent", "rule": "off_or_groups", "en": "Guest users can access Power BI", "ja": "ゲスト ユーザーによる Power BI へのアクセス"},
	"MS.POWERBI.3.1v1": {"setting": "ExternalSharingV2", "rule": "off_or_groups", "en": "Users can invite guest users (external sharing)", "ja": "ゲスト ユーザーの招待（外部共有）"},
	"MS.POWERBI.4.1v1": {"setting": "ServicePrincipalAccessPermissionAPIs", "rule": "off_or_groups", "en": "Service principals can use the Power BI / Fabric APIs", "ja": "サービス プリンシパルによる Power BI / Fabric API の使用"},
	"MS.POWERBI.4.2v1": {"setting": "AllowServicePrincipalsCreateAndUseProfiles", "rule": "off_or_groups", "en": "Service principals can create and use profiles", "ja": "サービス プリンシパルによるプロファイルの作成と使用"},
	"MS.POWERBI.5.1v1": {"setting": "BlockResourceKeyAuthentication", "rule": "on", "en": "Block ResourceKey authentication", "ja": "ResourceKey 認証のブロック"},
	"MS.POWERBI.6.1v1": {"setting": "RScriptVisual", "rule": "off", "en": "Interact with and share R and Python visuals", "ja": "R および Python のビジュアルの操作と共有"},
	"MS.POWERBI.7.1v1": {"setting": "EimInformationProtectionEdit", "rule": "on", "en": "Allow users to apply sensitivity labels for content", "ja": "ユーザーによるコンテンツへの秘密度ラベルの適用"},
}

licensed if input.powerbi_license_found == true

settings := [s | some s in input.powerbi_tenant_settings; is_object(s)] if is_array(input.powerbi_tenant_settings)

settings := [] if not is_array(input.powerbi_tenant_settings)

setting(name) := found[0] if {
	found := [s | some s in settings; s.settingName == name]
	count(found) > 0
}

# Names of the security groups a setting is enabled for.
groups(s) := [group_name(g) | some g in s.enabledSecurityGroups] if is_array(s.enabledSecurityGroups)

groups(s) := [] if not is_array(s.enabledSecurityGroups)

group_name(g) := sprintf("%v", [g.name]) if {
	is_object(g)
	g.name != null
}

group_name(g) := sprintf("%v", [object.get(g, "graphId", "?")]) if {
	is_object(g)
	object.get(g, "name", null) == null
}

group_name(g) := sprintf("%v", [g]) if not is_object(g)

enabled(s) := object.get(s, "enabled", null)

meets("off", s) := enabled(s) == false

meets("on", s) := enabled(s) == true

meets("off_or_groups", s) := true if {
	enabled(s) == false
} else := true if {
	enabled(s) == true
	count(groups(s)) > 0
} else := false

# What the setting looks like, in words.
state_en(s) := "disabled" if enabled(s) == false

state_en(s) := "enabled for the entire organization" if {
	enabled(s) == true
	count(groups(s)) == 0
}

state_en(s) := sprintf("enabled for the security groups %s", [lib.names_en(groups(s))]) if {
	enabled(s) == true
	count(groups(s)) > 0
}

state_en(s) := sprintf("in an unknown state (enabled = %v)", [enabled(s)]) if not is_boolean(enabled(s))

state_ja(s) := "無効" if enabled(s) == false

state_ja(s) := "組織全体に対して有効" if {
	enabled(s) == true
	count(groups(s)) == 0
}

state_ja(s) := sprintf("セキュリティ グループ %s に対して有効", [lib.names_ja(groups(s))]) if {
	enabled(s) == true
	count(groups(s)) > 0
}

state_ja(s) := sprintf("不明な状態（enabled = %v）", [enabled(s)]) if not is_boolean(enabled(s))

want_en := {"off": "it should be disabled", "on": "it should be enabled", "off_or_groups": "it should be disabled or enabled only for specific security groups"}

want_ja := {"off": "無効にする必要があります", "on": "有効にする必要があります", "off_or_groups": "無効にするか、特定のセキュリティ グループだけに有効にする必要があります"}

label(s, c) := sprintf("%v", [s.title]) if is_string(s.title)

label(s, c) := c.en if not is_string(s.title)

# No Power BI license: the settings cannot be relied on and the reference fails every control.
results contains lib.verdict(
	id, false,
	sprintf("No Power BI license was found in the tenant (powerbi_license_found = %v), so the Power BI tenant setting \"%s\" could not be assessed.", [object.get(input, "powerbi_license_found", null), c.en]),
	sprintf("テナントに Power BI のライセンスが見つからないため（powerbi_license_found = %v）、Power BI のテナント設定「%s」を評価できませんでした。", [object.get(input, "powerbi_license_found", null), c.ja]),
) if {
	some id, c in checks
	not licensed
}

results contains lib.verdict_with(
	id, false,
	sprintf("The tenant setting %s (%s) was not among the %d Power BI tenant settings returned by the admin API.", [c.setting, c.en, count(settings)]),
	sprintf("Power BI 管理 API から返された %d 件のテナント設定に %s（%s）が含まれていませんでした。", [count(settings), c.setting, c.ja]),
	[c.setting],
) if {
	some id, c in checks
	licensed
	not setting(c.setting)
}

results contains lib.verdict_with(
	id, met,
	sprintf("The tenant setting \"%s\" (%s) is %s; %s.", [label(s, c), c.setting, state_en(s), want_en[c.rule]]),
	sprintf("テナント設定「%s」（%s）は%sです。%s。", [c.ja, c.setting, state_ja(s), want_ja[c.rule]]),
	offending(met, label(s, c)),
) if {
	some id, c in checks
	licensed
	s := setting(c.setting)
	met := meets(c.rule, s)
}

offending(true, _) := []

offending(false, name) := [name]
