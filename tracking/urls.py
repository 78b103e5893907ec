from django.urls import path

from . import hooks, views, voice_hooks

app_name = "tracking"

urlpatterns = [
    path("board/", views.board, name="board"),
    path("escalations/", views.escalations, name="escalations"),
    path("my-visit/", views.my_visit, name="mine"),
    path("my-pins/", views.my_pins, name="pins"),
    # My visit as an app: the worker's scope is my-visit/, so it serves nothing else offline.
    path("my-visit/offline/", views.my_visit_offline, name="app_offline"),
    path("my-visit/sw.js", views.my_visit_service_worker, name="app_service_worker"),
    path("my-visit/manifest.webmanifest", views.my_visit_manifest, name="app_manifest"),
    path("visits/<int:visit_pk>/sign-out/", views.signout_create, name="signout"),
    path("<int:pk>/left-safely/", views.phone_in, name="phone_in"),
    path("<int:pk>/more-time/", views.extend, name="extend"),
    path("<int:pk>/going-home/", views.going_home, name="going_home"),
    path("<int:pk>/back/", views.returned, name="returned"),
    path("<int:pk>/help/", views.help_request, name="help"),
    path("<int:pk>/check-in/", views.check_in, name="check_in"),
    path("<int:pk>/calls/", views.call_attempt, name="call"),
    path("<int:pk>/actions/", views.row_actions, name="row_actions"),
    path("<int:pk>/emergency/", views.emergency, name="emergency"),
    path("<int:pk>/emergency/briefing.pdf", views.briefing_pdf, name="briefing_pdf"),
    path("<int:pk>/emergency/photo/<int:user_pk>.jpg", views.visitor_photo, name="visitor_photo"),
    path("<int:pk>/decision/", views.decision, name="decision"),
    path("<int:pk>/acknowledge/", views.acknowledge_case, name="acknowledge_case"),
    # R-ESC-9: the Headteacher's (and the DSL's) escalation chain settings.
    path("escalation-chain/", views.chain_settings_home, name="chain_settings_home"),
    path("escalation-chain/<int:school_pk>/", views.chain_settings, name="chain_settings"),
    path("messages/<int:pk>/resend/", views.notification_resend, name="resend"),
    # Public by design: the signed, one-time link texted to an overdue visitor.
    path("check-in/<str:token>/", views.checkin, name="checkin"),
    # Public by design: the signed, one-time acknowledgement link in a manager's alert.
    path("ack/<str:token>/", views.acknowledge, name="acknowledge"),
    # Providers' delivery receipts: each checks the provider's signature or token first.
    path("hooks/twilio/status/", views.twilio_status, name="twilio_status"),
    path("hooks/notify/receipt/", views.notify_receipt, name="notify_receipt"),
    # R-ESC-11: the fallback phone call: what it says, the key pressed, its progress.
    path("hooks/twilio/voice/status/", voice_hooks.twilio_call_status, name="twilio_call_status"),
    path("hooks/twilio/voice/<str:token>/", voice_hooks.voice_twiml, name="voice_twiml"),
    path("hooks/twilio/voice/<str:token>/key/", voice_hooks.voice_keypress, name="voice_keypress"),
    # Issue 13 (check in from anywhere): texts visitors send back, posted by the SMS providers.
    path("hooks/twilio/sms/", hooks.twilio_sms_reply, name="twilio_sms_reply"),
    path("hooks/notify/sms/", hooks.notify_sms_reply, name="notify_sms_reply"),
]
