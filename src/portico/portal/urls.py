from django.urls import include, path

from portico.portal import credit_views, ledger_views, views

app_name = "portal"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("", include("portico.portal.account_urls")),  # security/, profile/
    path("invoices/", ledger_views.invoice_list, name="invoices"),
    path("invoices/<str:number>/", ledger_views.invoice_detail, name="invoice"),
    path("invoices/<str:number>/print/", ledger_views.invoice_print, name="invoice_print"),
    path("invoices/<str:number>/pdf/", ledger_views.invoice_pdf, name="invoice_pdf"),
    path("invoices/<str:number>/pay/", ledger_views.pay_invoice, name="pay_invoice"),
    path("payments/", ledger_views.payment_list, name="payments"),
    path("payments/<str:number>/receipt/", ledger_views.payment_receipt, name="payment_receipt"),
    path("credits/", ledger_views.credits, name="credits"),
    path("credits/apply/", credit_views.apply_credit, name="apply_credit"),
    path("statements/", ledger_views.statements, name="statements"),
    path("statements/pdf/", ledger_views.statement_pdf, name="statement_pdf"),
    path("statements/csv/", ledger_views.statement_csv_download, name="statement_csv"),
    path(
        "statements/exports/<str:public_id>/",
        ledger_views.statement_export_download,
        name="statement_export",
    ),
    path("pay/", ledger_views.pay, name="pay"),
]
