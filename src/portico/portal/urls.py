from django.urls import include, path

from portico.portal import (
    conversation_views,
    credit_views,
    document_views,
    invoice_views,
    pay_views,
    payment_method_views,
    payment_views,
    project_views,
    review_views,
    statement_views,
    subscription_views,
    views,
    web_tab_views,
)

app_name = "portal"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("", include("portico.portal.account_urls")),  # security/, profile/
    path("invoices/", invoice_views.invoice_list, name="invoices"),
    path("invoices/<str:number>/", invoice_views.invoice_detail, name="invoice"),
    path("invoices/<str:number>/print/", invoice_views.invoice_print, name="invoice_print"),
    path("invoices/<str:number>/pdf/", invoice_views.invoice_pdf, name="invoice_pdf"),
    path("invoices/<str:number>/pay/", pay_views.pay_invoice, name="pay_invoice"),
    path("payments/", payment_views.payment_list, name="payments"),
    path("payments/<str:number>/receipt/", payment_views.payment_receipt, name="payment_receipt"),
    path("credits/", payment_views.credits, name="credits"),
    path("credits/apply/", credit_views.apply_credit, name="apply_credit"),
    path("statements/", statement_views.statements, name="statements"),
    path("statements/pdf/", statement_views.statement_pdf, name="statement_pdf"),
    path("statements/csv/", statement_views.statement_csv_download, name="statement_csv"),
    path(
        "statements/exports/<str:public_id>/",
        statement_views.statement_export_download,
        name="statement_export",
    ),
    path("tabs/<int:tab_id>/", web_tab_views.web_tab, name="web_tab"),
    path("reviews/", review_views.review_page, name="reviews"),
    path("reviews/write/", review_views.write_review, name="review_write"),
    path("reviews/<str:review_id>/edit/", review_views.edit_review, name="review_edit"),
    path("documents/", document_views.document_list, name="documents"),
    path("documents/links/", document_views.share_link_create, name="share_link_create"),
    path("documents/links/<str:link_id>/revoke/", document_views.share_link_revoke, name="share_link_revoke"),
    path("documents/<str:document_id>/", document_views.document_download, name="document_download"),
    path("pay/", pay_views.pay, name="pay"),
    path("pay/amount/", pay_views.pay_amount, name="pay_amount"),
    path("payment-methods/", payment_method_views.payment_methods, name="payment_methods"),
    path("payment-methods/add/", payment_method_views.add_payment_method, name="payment_method_add"),
    path(
        "payment-methods/auto-charge/",
        payment_method_views.auto_charge,
        name="payment_methods_auto_charge",
    ),
    path(
        "payment-methods/<str:method_id>/default/",
        payment_method_views.make_default_payment_method,
        name="payment_method_default",
    ),
    path(
        "payment-methods/<str:method_id>/remove/",
        payment_method_views.remove_payment_method,
        name="payment_method_remove",
    ),
    path(
        "payment-methods/<str:method_id>/replace/",
        payment_method_views.replace_payment_method,
        name="payment_method_replace",
    ),
    path("subscriptions/", subscription_views.subscription_list, name="subscriptions"),
    path("subscriptions/<str:number>/", subscription_views.subscription_detail, name="subscription"),
    path(
        "subscriptions/<str:number>/change/",
        subscription_views.change_subscription,
        name="subscription_change",
    ),
    path(
        "subscriptions/<str:number>/cancel/",
        subscription_views.cancel_subscription,
        name="subscription_cancel",
    ),
    path("subscriptions/<str:number>/keep/", subscription_views.undo_cancel, name="subscription_undo_cancel"),
    path(
        "subscriptions/<str:number>/pause/", subscription_views.pause_subscription, name="subscription_pause"
    ),
    path(
        "subscriptions/<str:number>/resume/",
        subscription_views.resume_subscription,
        name="subscription_resume",
    ),
    path("subscriptions/<str:number>/coupon/", subscription_views.redeem_coupon, name="subscription_coupon"),
    path(
        "subscriptions/<str:number>/auto-charge/",
        subscription_views.auto_charge,
        name="subscription_auto_charge",
    ),
    path(
        "subscriptions/<str:number>/scheduled/",
        subscription_views.cancel_scheduled,
        name="subscription_scheduled",
    ),
    path(
        "subscriptions/<str:number>/convert/", subscription_views.convert_trial, name="subscription_convert"
    ),
    path(
        "subscriptions/<str:number>/extend-trial/",
        subscription_views.extend_trial,
        name="subscription_extend",
    ),
    path(
        "subscriptions/<str:number>/reactivate/",
        subscription_views.reactivate,
        name="subscription_reactivate",
    ),
    path("subscriptions/<str:number>/add-on/", subscription_views.add_addon, name="subscription_addon"),
    path(
        "subscriptions/<str:number>/remove-add-on/",
        subscription_views.remove_addon,
        name="subscription_remove_addon",
    ),
    path(
        "subscriptions/<str:number>/keep-with-offer/",
        subscription_views.accept_retention_offer,
        name="subscription_retention",
    ),
    path("conversations/", conversation_views.conversation_list, name="conversations"),
    path("conversations/new/", conversation_views.conversation_new, name="conversation_new"),
    path("conversations/<str:thread_id>/", conversation_views.conversation_detail, name="conversation"),
    path(
        "conversations/<str:thread_id>/reply/",
        conversation_views.conversation_reply,
        name="conversation_reply",
    ),
    path(
        "conversations/<str:thread_id>/files/<str:attachment_id>/",
        conversation_views.conversation_attachment,
        name="conversation_attachment",
    ),
    path("projects/", project_views.project_list, name="projects"),
    path("projects/<str:code>/", project_views.project_detail, name="project"),
    path("projects/<str:code>/hours/", project_views.project_hours, name="project_hours"),
    path("projects/<str:code>/hours/csv/", project_views.project_hours_csv, name="project_hours_csv"),
    path("projects/<str:code>/hours/approve/", project_views.approve_hours, name="project_hours_approve"),
    path("projects/<str:code>/hours/dispute/", project_views.dispute_hours, name="project_hours_dispute"),
]
