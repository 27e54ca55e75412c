"""Parameter names the emulator knows, as the API spells them (case-sensitive: ``iOSBadge``).

The Push list is the 121 fields of ``alibabacloud-push20160801`` 2.1.8 (``models/_push_request.py``), copied here
so the emulator depends on no SDK. A parameter outside these lists is ignored, as CloudPush ignores
it, but the push record names it under ``ignored_params``: a mis-capitalised ``IOSBadge`` shows up.
"""

from __future__ import annotations

#: Common (signature and routing) parameters: never business data, stripped from push records.
COMMON_PARAMS = frozenset(
    {
        "Action", "Version", "Format", "RegionId", "AccessKeyId", "Signature", "SignatureMethod",
        "SignatureNonce", "SignatureVersion", "SignatureType", "Timestamp", "SecurityToken",
    }
)  # fmt: skip

PUSH_FIELDS = frozenset(
    {
    "AndroidActivity", "AndroidBadgeAddNum", "AndroidBadgeClass", "AndroidBadgeSetNum", "AndroidBigBody",
    "AndroidBigPictureUrl", "AndroidBigTitle", "AndroidExtParameters", "AndroidHonorTargetUserType",
    "AndroidHuaweiBusinessType", "AndroidHuaweiLiveNotificationPayload", "AndroidHuaweiReceiptId",
    "AndroidHuaweiTargetUserType", "AndroidImageUrl", "AndroidInboxBody", "AndroidMeizuNoticeMsgType",
    "AndroidMessageHuaweiCategory", "AndroidMessageHuaweiUrgency", "AndroidMessageOppoCategory",
    "AndroidMessageOppoNotifyLevel", "AndroidMessageVivoCategory", "AndroidMusic",
    "AndroidNotificationBarPriority", "AndroidNotificationBarType", "AndroidNotificationChannel",
    "AndroidNotificationGroup", "AndroidNotificationHonorChannel", "AndroidNotificationHuaweiChannel",
    "AndroidNotificationNotifyId", "AndroidNotificationThreadId", "AndroidNotificationVivoChannel",
    "AndroidNotificationXiaomiChannel", "AndroidNotifyType", "AndroidOpenType", "AndroidOpenUrl",
    "AndroidOppoDeleteIntentData", "AndroidOppoIntelligentIntent", "AndroidOppoIntentEnv",
    "AndroidOppoPrivateContentParameters", "AndroidOppoPrivateMsgTemplateId",
    "AndroidOppoPrivateTitleParameters", "AndroidPopupActivity", "AndroidPopupBody", "AndroidPopupTitle",
    "AndroidRemind", "AndroidRenderStyle", "AndroidTargetUserType", "AndroidVivoLiveMessage",
    "AndroidVivoPushMode", "AndroidVivoReceiptId", "AndroidXiaoMiActivity", "AndroidXiaoMiNotifyBody",
    "AndroidXiaoMiNotifyTitle", "AndroidXiaomiBigPictureUrl", "AndroidXiaomiFocusParam",
    "AndroidXiaomiFocusPics", "AndroidXiaomiImageUrl", "AndroidXiaomiTemplateId", "AndroidXiaomiTemplateParams",
    "AppKey", "Body", "DeviceType", "ExpireTime", "HarmonyAction", "HarmonyActionType", "HarmonyBadgeAddNum",
    "HarmonyBadgeSetNum", "HarmonyCategory", "HarmonyExtParameters", "HarmonyExtensionExtraData",
    "HarmonyExtensionPush", "HarmonyImageUrl", "HarmonyInboxContent", "HarmonyLiveViewPayload",
    "HarmonyNotificationSlotType", "HarmonyNotifyId", "HarmonyReceiptId", "HarmonyRemind", "HarmonyRemindBody",
    "HarmonyRemindTitle", "HarmonyRenderStyle", "HarmonyTestMessage", "HarmonyUri", "IdempotentToken", "JobKey",
    "PushTime", "PushType", "SendChannels", "SendSpeed", "SmsDelaySecs", "SmsParams", "SmsSendPolicy",
    "SmsSignName", "SmsTemplateName", "StoreOffline", "Target", "TargetValue", "Title", "Trim", "iOSApnsEnv",
    "iOSBadge", "iOSBadgeAutoIncrement", "iOSExtParameters", "iOSInterruptionLevel",
    "iOSLiveActivityAttributes", "iOSLiveActivityAttributesType", "iOSLiveActivityContentState",
    "iOSLiveActivityDismissalDate", "iOSLiveActivityEvent", "iOSLiveActivityId", "iOSLiveActivityStaleDate",
    "iOSMusic", "iOSMutableContent", "iOSNotificationCategory", "iOSNotificationCollapseId",
    "iOSNotificationThreadId", "iOSRelevanceScore", "iOSRemind", "iOSRemindBody", "iOSSilentNotification",
    "iOSSubtitle"
    }
)  # fmt: skip

#: A MassPush task: the Push fields minus AppKey, IdempotentToken and the SMS fallback
#: (``alibabacloud-push20160801`` 2.1.8, ``models/_mass_push_request.py``).
NOT_IN_TASK = frozenset(
    {"AppKey", "IdempotentToken", "SmsDelaySecs", "SmsParams", "SmsSendPolicy", "SmsSignName", "SmsTemplateName"}
)
TASK_FIELDS = PUSH_FIELDS - NOT_IN_TASK
