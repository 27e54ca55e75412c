"""The 114 parameters a ``Push`` shares with each ``MassPush`` task (``PushRequest`` and
``MassPushRequestPushTask`` of ``alibabacloud-push20160801`` 2.1.8).

One line per parameter: snake_case name (alias = API name), type, documented limits. Rules that
span several parameters live in ``_push_rules``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pushfn.errors import FieldProblem
from pushfn.push.models._base import WireModel
from pushfn.push.models._push_rules import push_problems
from pushfn.push.models._rules import NOT_EMPTY, between, each_in, max_bytes, max_chars, max_items, one_of
from pushfn.push.models._types import (
    SEND_CHANNELS,
    Bool,
    CommaList,
    DeviceType,
    Float,
    Int,
    Int32,
    JobKey,
    JsonArray,
    JsonMap,
    JsonText,
    PushType,
    StrMap,
    Target,
    TargetValue,
    Text,
    UnixSeconds,
    UtcDateTime,
    ZeroOrOne,
)

Title = Annotated[Text, NOT_EMPTY, max_bytes(200)]
Body = Annotated[Text, NOT_EMPTY]
#: A non-negative int32 (the SDK's type; the service documents no narrower range).
NonNegativeInt32 = Annotated[Int, between(0, 2**31 - 1)]


class PushFields(WireModel):
    """The parameters of one push, common to ``Push`` and a ``MassPush`` task: target, content, schedule,
    and the per-platform and per-vendor options. :func:`push_problems` checks the rules between them."""

    # --- common (13 here; AppKey and IdempotentToken belong to the request) -------------------
    device_type: DeviceType
    push_type: PushType
    target: Target
    target_value: TargetValue
    title: Title | None = None
    body: Body | None = None
    job_key: JobKey | None = None
    push_time: UtcDateTime | None = None
    expire_time: UtcDateTime | None = None
    store_offline: Bool | None = None
    send_channels: Annotated[CommaList, each_in(SEND_CHANNELS)] | None = None
    send_speed: NonNegativeInt32 | None = None  # deprecated by the service, still accepted
    trim: Bool | None = None

    # --- iOS (22) ----------------------------------------------------------------------------
    ios_apns_env: Literal["DEV", "PRODUCT"] | None = None
    # [0, 99999]: the range of the badge number CloudPush keeps per device (iOS SDK syncBadgeNum).
    ios_badge: Annotated[Int, between(0, 99_999)] | None = None
    ios_badge_auto_increment: Bool | None = None
    ios_ext_parameters: JsonMap | None = None
    ios_interruption_level: Literal["passive", "active", "time-sensitive", "critical"] | None = None
    ios_live_activity_attributes: JsonText | None = None
    ios_live_activity_attributes_type: Text | None = None
    ios_live_activity_content_state: JsonText | None = None
    ios_live_activity_dismissal_date: UnixSeconds | None = None
    ios_live_activity_event: Literal["start", "update", "end"] | None = None
    ios_live_activity_id: Text | None = None
    ios_live_activity_stale_date: UnixSeconds | None = None
    ios_music: Text | None = None  # "" means silent, so empty is allowed
    ios_mutable_content: Bool | None = None
    ios_notification_category: Text | None = None
    ios_notification_collapse_id: Text | None = None
    ios_notification_thread_id: Text | None = None
    ios_relevance_score: Annotated[Float, between(0, 1)] | None = None
    ios_remind: Bool | None = None
    ios_remind_body: Text | None = None
    ios_silent_notification: Bool | None = None
    ios_subtitle: Text | None = None

    # --- HarmonyOS (20) ----------------------------------------------------------------------
    harmony_action: Text | None = None
    harmony_action_type: Literal["APP_HOME_PAGE", "APP_CUSTOM_PAGE"] | None = None
    # HarmonyOS Push Kit's badge ranges (the same as Android's AndroidBadgeAddNum/SetNum below).
    harmony_badge_add_num: Annotated[Int, between(1, 99)] | None = None
    harmony_badge_set_num: Annotated[Int, between(0, 99)] | None = None
    harmony_category: Text | None = None
    harmony_ext_parameters: JsonMap | None = None
    harmony_extension_extra_data: Text | None = None
    harmony_extension_push: Bool | None = None
    harmony_image_url: Text | None = None
    harmony_inbox_content: Annotated[JsonArray, max_items(3, "lines")] | None = None
    harmony_live_view_payload: JsonText | None = None
    harmony_notification_slot_type: Text | None = None
    harmony_notify_id: NonNegativeInt32 | None = None  # a HarmonyOS notification id
    harmony_receipt_id: Text | None = None
    harmony_remind: Bool | None = None
    harmony_remind_body: Text | None = None
    harmony_remind_title: Text | None = None
    harmony_render_style: Literal["NORMAL", "MULTI_LINE"] | None = None
    harmony_test_message: Bool | None = None
    harmony_uri: Text | None = None

    # --- Android (59) ------------------------------------------------------------------------
    android_activity: Text | None = None
    android_badge_add_num: Annotated[Int, between(1, 99)] | None = None
    android_badge_class: Text | None = None
    android_badge_set_num: Annotated[Int, between(0, 99)] | None = None
    android_big_body: Annotated[Text, max_bytes(1000)] | None = None
    android_big_picture_url: Text | None = None
    android_big_title: Annotated[Text, max_bytes(200)] | None = None
    android_ext_parameters: JsonMap | None = None
    android_honor_target_user_type: ZeroOrOne | None = None
    android_huawei_business_type: ZeroOrOne | None = None
    android_huawei_live_notification_payload: JsonText | None = None
    android_huawei_receipt_id: Text | None = None
    android_huawei_target_user_type: ZeroOrOne | None = None
    android_image_url: Text | None = None
    android_inbox_body: Annotated[JsonArray, max_items(5, "lines")] | None = None
    android_meizu_notice_msg_type: ZeroOrOne | None = None
    android_message_huawei_category: Text | None = None
    android_message_huawei_urgency: Literal["HIGH", "NORMAL"] | None = None
    android_message_oppo_category: Text | None = None
    android_message_oppo_notify_level: Annotated[Int, one_of(1, 2, 16)] | None = None
    android_message_vivo_category: Text | None = None
    android_music: Text | None = None
    android_notification_bar_priority: Annotated[Int, between(-2, 2)] | None = None
    android_notification_bar_type: Annotated[Int, between(1, 100)] | None = None
    android_notification_channel: Text | None = None
    android_notification_group: Text | None = None
    android_notification_honor_channel: Text | None = None
    android_notification_huawei_channel: Text | None = None
    android_notification_notify_id: Int32 | None = None  # an Android notification id
    android_notification_thread_id: Text | None = None
    android_notification_vivo_channel: Text | None = None
    android_notification_xiaomi_channel: Text | None = None
    android_notify_type: Literal["VIBRATE", "SOUND", "BOTH", "NONE"] | None = None
    android_open_type: Literal["APPLICATION", "ACTIVITY", "URL", "NONE"] | None = None
    android_open_url: Text | None = None
    android_oppo_delete_intent_data: JsonText | None = None
    android_oppo_intelligent_intent: JsonText | None = None
    android_oppo_intent_env: ZeroOrOne | None = None
    android_oppo_private_content_parameters: StrMap | None = None
    android_oppo_private_msg_template_id: Text | None = None
    android_oppo_private_title_parameters: StrMap | None = None
    android_popup_activity: Text | None = None
    android_popup_body: Annotated[Text, max_chars(200)] | None = None
    android_popup_title: Annotated[Text, max_chars(50)] | None = None
    android_remind: Bool | None = None
    android_render_style: Annotated[Int, between(0, 3)] | None = None
    android_target_user_type: ZeroOrOne | None = None
    android_vivo_live_message: JsonText | None = None
    android_vivo_push_mode: ZeroOrOne | None = None
    android_vivo_receipt_id: Text | None = None
    android_xiao_mi_activity: Text | None = None  # deprecated -> AndroidPopupActivity
    android_xiao_mi_notify_body: Text | None = None  # deprecated -> AndroidPopupBody
    android_xiao_mi_notify_title: Text | None = None  # deprecated -> AndroidPopupTitle
    android_xiaomi_big_picture_url: Text | None = None  # deprecated
    android_xiaomi_focus_param: JsonText | None = None
    android_xiaomi_focus_pics: JsonText | None = None
    android_xiaomi_image_url: Text | None = None  # deprecated
    android_xiaomi_template_id: Text | None = None
    android_xiaomi_template_params: JsonText | None = None

    def rule_problems(self, now: datetime) -> list[FieldProblem]:
        return push_problems(self, now)
