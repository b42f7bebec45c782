"""FAQ and policy content of the Brightcart demo store, in English and Simplified Chinese.

This module owns what the demo store *says*: every entry is a plain dict with ``id``, ``lang``
(``"en"`` | ``"zh"``), ``kind`` (``"policy"`` | ``"faq"``), ``question``, ``answer``, ``tags`` and
three shopper-style ``paraphrases`` used to evaluate retrieval. The three store policies of
docs/contract.md (demo store fixtures) (returns within 30 days of delivery with a prepaid label; free standard shipping on
orders over $49, else $5.99; refunds to the original payment method 5–7 business days after the
return reaches the warehouse) and the invented store facts listed below are worded the same way in
every entry that mentions them; ``tests/knowledge/test_demo_faqs.py`` guards that.

Store facts used here: standard shipping 3–5 business days; express 1–2 business days for $14.99;
same-day dispatch for orders placed by 2 pm ET Monday–Friday; international shipping to 40+
countries for a flat $24.99 in 7–14 business days, duties collected at checkout; carriers UPS/USPS
(US) and DHL (international); orders can be changed or cancelled while "Processing"; warranties:
electronics 12 months, kitchen appliances 24 months, outdoor gear 12 months, footwear and apparel
90 days; support by chat and phone Monday–Friday 8 am–8 pm ET and Saturday–Sunday 9 am–5 pm ET,
phone 1-800-555-0199, email support@brightcart.com answered within 24 hours; Chinese-speaking agents
Monday–Friday 9 am–5 pm ET; stores in Seattle, Austin, Chicago and New York, open Monday–Saturday
10 am–9 pm and Sunday 11 am–6 pm; Brightcart Rewards: 1 point per $1, 100 points = $5.

Example:
    >>> from knowledge.demo.faqs import FAQS
    >>> next(f for f in FAQS if f["id"] == "en-returns-window")["kind"]
    'policy'
"""

from __future__ import annotations

__all__ = ["FAQS"]


def _faq(
    id: str, kind: str, question: str, answer: str, tags: list[str], paraphrases: list[str]
) -> dict:
    # The language is the id's prefix, so the two can never disagree.
    return {
        "id": id,
        "lang": id.split("-", 1)[0],
        "kind": kind,
        "question": question,
        "answer": answer,
        "tags": tags,
        "paraphrases": paraphrases,
    }


_EN: list[dict] = [
    # --- returns and exchanges -------------------------------------------------------------
    _faq(
        "en-returns-window", "policy",
        "How long do I have to return an item?",
        "You can return items within 30 days of delivery, as long as they're unused and in their "
        "original condition and packaging. Start the return in Account > My Orders and we'll "
        "email you a prepaid return label, so sending it back costs you nothing.",
        ["returns", "policy"],
        [
            "whats your return policy",
            "is there a deadline to send stuff back?",
            "bought earbuds 3 weeks ago, am I still able to send them back",
        ],
    ),
    _faq(
        "en-returns-how-to", "faq",
        "How do I start a return?",
        "Open Account > My Orders, pick the order and choose \"Return items\", or just tell me "
        "the order number here. We'll email you a prepaid return label that you can drop off at "
        "any UPS location within 30 days of delivery.",
        ["returns"],
        [
            "how do i send something back",
            "where's the button to return my order",
            "want to give back the shoes i got, what are the steps?",
        ],
    ),
    _faq(
        "en-returns-cost", "faq",
        "Do I have to pay for return shipping?",
        "No, every return within 30 days of delivery comes with a prepaid return label, so it "
        "costs you nothing to send the item back. There's no restocking fee either.",
        ["returns", "shipping"],
        [
            "is sending it back free",
            "will you charge me a restocking fee?",
            "who covers postage when I send an item back",
        ],
    ),
    _faq(
        "en-returns-condition", "faq",
        "What condition does an item need to be in to be returned?",
        "Items must be unused and in original condition, with tags, accessories, manuals and the "
        "original packaging. Please try shoes on indoors only so the soles stay clean.",
        ["returns"],
        [
            "can i send back something i already wore outside",
            "do i need the original box to get my money back",
            "I threw away the tags, is that a problem?",
        ],
    ),
    _faq(
        "en-returns-opened-electronics", "faq",
        "Can I return electronics that I've opened?",
        "Yes, opened electronics can be returned within 30 days of delivery if they're undamaged "
        "and in original condition with all accessories and packaging. Please unpair or reset the "
        "device and sign out of any accounts before you send it back.",
        ["returns", "electronics"],
        [
            "I unboxed the headphones, can they still go back?",
            "took the laptop out of the box and changed my mind",
            "is it ok to send back a smartwatch thats been switched on",
        ],
    ),
    _faq(
        "en-returns-non-returnable", "faq",
        "Which items can't be returned?",
        "Gift cards, downloadable software, game codes that have been revealed and items marked "
        "\"Final sale\" can't be returned. Everything else can be returned within 30 days of "
        "delivery if it's unused and in original condition.",
        ["returns"],
        [
            "are there things you wont take back",
            "can i get my money back for a digital game code",
            "final sale stuff - refundable or not?",
        ],
    ),
    _faq(
        "en-exchanges", "policy",
        "Can I exchange an item for a different size or color?",
        "Yes, exchanges for a different size or color are free within 30 days of delivery. Choose "
        "\"Exchange\" in Account > My Orders, send the original back with the prepaid return "
        "label, and we ship the replacement as soon as the carrier scans your package.",
        ["returns", "exchanges"],
        [
            "shoes are too small can i swap them for a bigger pair",
            "want the same jacket in black instead",
            "how do exchanges work",
        ],
    ),
    _faq(
        "en-returns-damaged", "faq",
        "My item arrived damaged or defective. What should I do?",
        "Sorry about that! Report it within 30 days of delivery in Account > My Orders > Get help "
        "with a photo, and we'll send a free replacement or a full refund, including any shipping "
        "you paid, plus a prepaid return label for the faulty item.",
        ["returns", "defective"],
        [
            "the box was crushed and the blender is cracked",
            "my new earbuds dont turn on at all",
            "got a broken item, what now?",
        ],
    ),
    _faq(
        "en-returns-wrong-item", "faq",
        "I received the wrong item. How do you fix it?",
        "We'll sort it out right away: we email a prepaid return label for the wrong item and "
        "ship the correct one by express shipping at no cost to you. Report it in Account > My "
        "Orders > Get help or just give me your order number.",
        ["returns", "orders"],
        [
            "ordered a blue hoodie got a red one",
            "this isnt what i bought",
            "you sent me someone else's package contents",
        ],
    ),
    _faq(
        "en-returns-in-store", "faq",
        "Can I return an online order at a Brightcart store?",
        "Yes, bring the item with your order number to any Brightcart store within 30 days of "
        "delivery. The store sends it on to our warehouse, and your refund reaches your original "
        "payment method 5–7 business days after it arrives there.",
        ["returns", "store"],
        [
            "can I drop my online purchase back at the shop in Chicago",
            "do stores accept stuff I bought on the website",
            "is there an in-person option for sending things back",
        ],
    ),
    _faq(
        "en-returns-late", "faq",
        "It's been more than 30 days. Can I still return my item?",
        "Returns are accepted only within 30 days of delivery, so we can't take items back after "
        "that. If the product has a defect, it may still be covered by its warranty, and I can "
        "help you start a warranty claim.",
        ["returns", "warranty"],
        [
            "I missed the deadline to send something back",
            "got it 6 weeks ago, too late?",
            "return window closed but the item is still in its box",
        ],
    ),
    # --- refunds ---------------------------------------------------------------------------
    _faq(
        "en-refunds-timing", "policy",
        "When will I get my refund?",
        "Refunds go back to your original payment method 5–7 business days after your return "
        "arrives at our warehouse. We email you when the warehouse receives your package and "
        "again when the refund is issued.",
        ["refunds", "policy"],
        [
            "how long till i get my money back",
            "sent my package back last week, where's my money?",
            "refund processing time?",
        ],
    ),
    _faq(
        "en-refunds-method", "faq",
        "Can I get my refund on a different card or as store credit?",
        "Refunds always go back to your original payment method, so we can't move them to another "
        "card or account. If that card has been closed or replaced, your bank will pass the money "
        "on to your new card or account.",
        ["refunds", "payment"],
        [
            "my old card expired, where does the money go",
            "can you put the money on my paypal instead of visa",
            "can I get store credit rather than cash back",
        ],
    ),
    _faq(
        "en-refunds-status", "faq",
        "How can I check the status of my refund?",
        "Open the order in Account > My Orders: it shows \"Return received\" once your package "
        "reaches our warehouse and \"Refund issued\" when we send the money. Refunds reach your "
        "original payment method 5–7 business days after the return arrives at our warehouse.",
        ["refunds"],
        [
            "did you get my returned package yet",
            "where can i see if the money was sent",
            "refund still not showing on my bank statment",
        ],
    ),
    _faq(
        "en-refunds-shipping-fee", "faq",
        "Will I get my shipping fee back?",
        "The shipping fee you paid is refunded when the item was defective, damaged or the wrong "
        "item; for other returns we refund the item price but not the original shipping. Sending "
        "the item back is always free with our prepaid return label.",
        ["refunds", "shipping"],
        [
            "do you refund the $5.99 i paid for delivery",
            "is the express fee refundable",
            "will the delivery charge be returned to me too?",
        ],
    ),
    _faq(
        "en-refunds-cancelled-order", "faq",
        "I cancelled my order. When will I see the money?",
        "When an order is cancelled we release the payment right away. Depending on your bank, "
        "the pending charge disappears or the refund appears within 5–7 business days.",
        ["refunds", "orders"],
        [
            "cancelled but my card still shows the charge",
            "money back after cancelling, how long?",
            "there's a pending charge for an order i called off",
        ],
    ),
    # --- shipping --------------------------------------------------------------------------
    _faq(
        "en-shipping-free-threshold", "policy",
        "Do you offer free shipping?",
        "Yes, standard shipping is free on orders over $49. Orders of $49 or less ship for a flat "
        "$5.99.",
        ["shipping", "policy"],
        [
            "whats the minimum to get free delivery",
            "how much do i need to spend to not pay postage",
            "is delivery free",
        ],
    ),
    _faq(
        "en-shipping-costs", "policy",
        "How much does shipping cost?",
        "Standard shipping (3–5 business days) costs $5.99, or is free on orders over $49. "
        "Express shipping (1–2 business days) costs $14.99 on any order.",
        ["shipping", "policy"],
        [
            "delivery charges?",
            "what will postage be on a $30 order",
            "how much to send it faster",
        ],
    ),
    _faq(
        "en-shipping-times", "faq",
        "How long does delivery take?",
        "Once your order ships, standard shipping takes 3–5 business days and express shipping "
        "takes 1–2 business days. Orders placed by 2 pm ET Monday–Friday ship the same business "
        "day.",
        ["shipping"],
        [
            "when will my stuff arrive",
            "how many days till it gets here",
            "if i order today do i get it by friday",
        ],
    ),
    _faq(
        "en-shipping-dispatch", "faq",
        "When will my order ship?",
        "Orders placed by 2 pm ET Monday–Friday ship the same business day; later orders and "
        "weekend orders ship the next business day. You'll get an email with a tracking number as "
        "soon as it leaves our warehouse.",
        ["shipping", "orders"],
        [
            "whats the cutoff time for same day dispatch",
            "ordered on saturday, when does it go out",
            "how long before you send my package",
        ],
    ),
    _faq(
        "en-shipping-express", "faq",
        "Do you offer express or overnight delivery?",
        "Express shipping delivers in 1–2 business days for $14.99 on any order. Orders over $49 "
        "get free standard shipping, but express is always charged, and we don't offer same-day "
        "or weekend delivery.",
        ["shipping"],
        [
            "can i get it tomorrow",
            "need it fast, any rush option?",
            "is there next day shipping",
        ],
    ),
    _faq(
        "en-shipping-international", "faq",
        "Do you ship internationally?",
        "Yes, we ship to over 40 countries, including Canada, the UK, the EU, Australia, Japan, "
        "Singapore and mainland China. International shipping costs a flat $24.99 and takes 7–14 "
        "business days. Free standard shipping on orders over $49 applies to US addresses only.",
        ["shipping", "international"],
        [
            "do u deliver to canada",
            "can i order from germany",
            "overseas delivery cost and time?",
        ],
    ),
    _faq(
        "en-shipping-customs", "faq",
        "Will I have to pay customs duties on an international order?",
        "Duties and import taxes for international orders are calculated and collected at "
        "checkout, so there's nothing extra to pay when the parcel arrives. You'll see the exact "
        "amount before you pay.",
        ["shipping", "international"],
        [
            "any import fees when it gets to the UK",
            "do i pay tax at the door for overseas orders",
            "who pays the customs charges",
        ],
    ),
    _faq(
        "en-shipping-tracking", "faq",
        "How can I track my order?",
        "When your order ships we email you a tracking number and link; you can also find it in "
        "Account > My Orders or give me your order number here. Tracking can take up to 24 hours "
        "to show the first scan.",
        ["shipping", "tracking"],
        [
            "where is my package",
            "need the tracking no. for my order",
            "how do I see where my parcel is right now",
        ],
    ),
    _faq(
        "en-shipping-carriers", "faq",
        "Which carriers do you use?",
        "US orders ship with UPS or USPS depending on size and destination, and international "
        "orders ship with DHL. You can't pick the carrier, but the tracking link works for all of "
        "them.",
        ["shipping", "tracking"],
        [
            "is it coming by fedex or ups",
            "which courier delivers overseas orders",
            "can I choose usps",
        ],
    ),
    _faq(
        "en-shipping-delayed", "faq",
        "My order is late. What should I do?",
        "Check the tracking link first, since weather and carrier backlogs can add a day or two. "
        "If tracking hasn't updated for 5 business days, contact us and we'll open an "
        "investigation with the carrier.",
        ["shipping", "delays"],
        [
            "package is taking forever",
            "tracking hasnt moved in days",
            "it was supposed to come yesterday and nothing",
        ],
    ),
    _faq(
        "en-shipping-lost", "faq",
        "Tracking says delivered but I don't have my package. Is it lost?",
        "Please check around your door, your mailbox and with neighbors, and wait 48 hours, "
        "because carriers sometimes mark parcels delivered early. If it still hasn't turned up, "
        "contact us and we'll send a free replacement or a full refund.",
        ["shipping", "lost"],
        [
            "says delivered but nothing here",
            "i think my parcel got stolen",
            "the courier lost my order",
        ],
    ),
    _faq(
        "en-shipping-po-box", "faq",
        "Can you ship to a PO box or military address?",
        "Standard shipping can go to PO boxes and APO/FPO/DPO addresses through USPS. Express "
        "shipping needs a street address.",
        ["shipping"],
        [
            "do you deliver to po boxes",
            "im stationed overseas, can you send to my APO",
            "P.O. box ok for express?",
        ],
    ),
    _faq(
        "en-shipping-split", "faq",
        "Why did I receive only part of my order?",
        "Items stocked in different warehouses ship separately at no extra cost, and each package "
        "has its own tracking number in Account > My Orders. The rest of your order is on its way.",
        ["shipping", "orders"],
        [
            "only got one of the 2 things i ordered",
            "something is missing from my box",
            "why did my stuff come in separate parcels",
        ],
    ),
    # --- orders ----------------------------------------------------------------------------
    _faq(
        "en-orders-cancel", "faq",
        "How do I cancel my order?",
        "You can cancel an order in Account > My Orders while its status is \"Processing\", which "
        "is usually the first hour after you place it. Once it has shipped it can't be cancelled, "
        "but you can return it within 30 days of delivery for a refund.",
        ["orders", "cancel"],
        [
            "i dont want my order anymore",
            "made a mistake, pls stop the order",
            "is it too late to call off what i bought",
        ],
    ),
    _faq(
        "en-orders-change", "faq",
        "Can I change the items in my order?",
        "While an order is still \"Processing\" you can change sizes, colors or quantities in "
        "Account > My Orders, or ask me to do it. After it ships it can't be changed, but "
        "exchanges for a different size or color are free within 30 days of delivery.",
        ["orders"],
        [
            "picked the wrong size, can i fix it before it ships",
            "want to add another item to my order",
            "can i edit an order i just placed",
        ],
    ),
    _faq(
        "en-orders-address-change", "faq",
        "How do I change the shipping address on my order?",
        "You can update the address in Account > My Orders while the order is still "
        "\"Processing\". If it has already shipped, request a redirect on the carrier's tracking "
        "page, or contact us and we'll try to help.",
        ["orders", "shipping", "address"],
        [
            "i moved, need to update where it's going",
            "typo in my street name on the order",
            "can you send my package to my office instead",
        ],
    ),
    _faq(
        "en-orders-history", "faq",
        "Where can I see my past orders?",
        "Sign in and open Account > My Orders to see every order with its status, tracking and "
        "invoice. Orders you placed as a guest appear there too once you create an account with "
        "the same email address.",
        ["orders", "account"],
        [
            "where do i find what i bought last year",
            "list of my previous purchases?",
            "can I look up an old order",
        ],
    ),
    _faq(
        "en-orders-invoice", "faq",
        "How do I get an invoice or receipt?",
        "Open the order in Account > My Orders and choose \"Download invoice\" for a PDF invoice; "
        "the receipt is also in your order confirmation email. To show a company name or tax ID, "
        "add it under Account > Billing before downloading.",
        ["orders", "invoice"],
        [
            "need a receipt for my expense report",
            "can I get a bill with my company name on it",
            "where to download the invoce pdf",
        ],
    ),
    _faq(
        "en-orders-confirmation-missing", "faq",
        "I didn't get an order confirmation email. Did my order go through?",
        "Confirmation emails usually arrive within 15 minutes, so check your spam or promotions "
        "folder first. If it isn't there, your order still shows in Account > My Orders, and I "
        "can resend the confirmation.",
        ["orders"],
        [
            "no email after i paid",
            "not sure if my purchase worked",
            "never received the order conformation",
        ],
    ),
    _faq(
        "en-orders-out-of-stock", "faq",
        "The item I want is out of stock. Will it come back?",
        "Tap \"Notify me\" on the product page and we'll email you when it's back in stock. We "
        "don't take backorders, so you're never charged for something we can't ship.",
        ["orders", "stock"],
        [
            "when will the sold out earbuds be available again",
            "can i preorder something thats unavailable",
            "restock alert?",
        ],
    ),
    _faq(
        "en-orders-status-meaning", "faq",
        "What do the order statuses mean?",
        "\"Processing\" means we're preparing your order and it can still be changed or "
        "cancelled; \"Shipped\" means it's with the carrier and has a tracking number. "
        "\"Delivered\" means the carrier confirmed delivery, which starts your 30-day return "
        "window.",
        ["orders"],
        [
            "my order says processing, what does that mean",
            "difference between shipped and delivered?",
            "what happens after an order is marked delivered",
        ],
    ),
    _faq(
        "en-orders-gift-wrap", "faq",
        "Do you offer gift wrapping or gift receipts?",
        "You can add gift wrap for $4.99 per item at checkout, with a free gift message. You can "
        "also choose a gift receipt, which leaves the prices off the packing slip.",
        ["orders", "gifts"],
        [
            "can you wrap it, its a present",
            "hide the price on the packing slip?",
            "is there a way to add a card with a note",
        ],
    ),
    _faq(
        "en-orders-sales-tax", "faq",
        "Do you charge sales tax?",
        "We collect sales tax where the law requires it, based on your shipping address. The "
        "exact amount is shown at checkout before you pay.",
        ["orders", "payment"],
        [
            "why is there tax on my order",
            "do i pay tax shipping to oregon",
            "how is the tax calculated",
        ],
    ),
    # --- payment ---------------------------------------------------------------------------
    _faq(
        "en-payment-methods", "faq",
        "What payment methods do you accept?",
        "We accept Visa, Mastercard, American Express, Discover, PayPal, Apple Pay, Google Pay "
        "and Brightcart gift cards. All prices are in US dollars.",
        ["payment"],
        [
            "can i pay with paypal",
            "do you take amex",
            "which cards work at checkout",
        ],
    ),
    _faq(
        "en-payment-failed", "faq",
        "Why was my payment declined?",
        "Double-check the card number, expiry date and CVV, and make sure the billing address "
        "matches what your bank has on file, then try again or use another method. If it keeps "
        "failing, your bank may be blocking the charge, and a quick call to them usually sorts it "
        "out.",
        ["payment"],
        [
            "card keeps getting rejected",
            "checkout says transaction failed",
            "payment wont go thru",
        ],
    ),
    _faq(
        "en-payment-installments", "faq",
        "Can I pay in installments?",
        "Yes, on orders of $100 or more you can choose Affirm at checkout and pay in 3, 6 or 12 "
        "monthly installments. Affirm shows your rate before you confirm, and some promotions "
        "offer 0% APR.",
        ["payment", "installments"],
        [
            "can i split the laptop cost over a few months",
            "buy now pay later options?",
            "do you do monthly payments",
        ],
    ),
    _faq(
        "en-payment-gift-cards", "faq",
        "How do Brightcart gift cards work?",
        "Brightcart gift cards come in amounts from $25 to $500, never expire and can be combined "
        "with another payment method at checkout. Check your balance under Account > Gift cards.",
        ["payment", "gift-cards"],
        [
            "do gift cards have an expiration date",
            "how much is left on my giftcard",
            "can i use a gift card plus my credit card",
        ],
    ),
    _faq(
        "en-payment-promo-codes", "faq",
        "How do I use a promo code?",
        "Enter the code in the \"Promo code\" box at checkout before you pay; one code can be "
        "used per order. Codes can't be added after an order is placed and don't apply to gift "
        "cards.",
        ["payment", "promotions"],
        [
            "where do i put my discount code",
            "can i stack two coupons",
            "forgot to enter my coupon, can you add it now",
        ],
    ),
    _faq(
        "en-payment-promo-not-working", "faq",
        "Why isn't my promo code working?",
        "Check the expiry date and conditions, because many codes need a minimum order amount or "
        "exclude certain brands and sale items. If it should work and still doesn't, send me the "
        "code and I'll look into it.",
        ["payment", "promotions"],
        [
            "coupon says invalid",
            "discount code not applying at checkout",
            "my voucher is rejected but it hasnt expired",
        ],
    ),
    _faq(
        "en-payment-price-adjustment", "policy",
        "The price dropped after I bought it. Can I get the difference?",
        "If Brightcart lowers the price of an item within 14 days of your purchase, we'll pay you "
        "the difference once per item. Just contact us with your order number; flash deals and "
        "clearance prices don't qualify.",
        ["payment", "price-adjustment"],
        [
            "it went on sale right after i ordered",
            "can you honor the new lower price",
            "price protection?",
        ],
    ),
    _faq(
        "en-payment-price-match", "policy",
        "Do you price match?",
        "Yes, we match the current price of identical new, in-stock items sold by Amazon, Best "
        "Buy, Walmart and Target in the US. Ask us before you buy or within 14 days of your "
        "purchase; marketplace sellers and flash deals don't qualify.",
        ["payment", "price-adjustment"],
        [
            "best buy has it cheaper, will you match",
            "can you beat a competitors price",
            "walmart sells the same blender for less",
        ],
    ),
    _faq(
        "en-payment-currency", "faq",
        "Can I pay in a currency other than US dollars?",
        "All prices are in US dollars, and your card issuer converts the amount if your card uses "
        "another currency. Your bank may charge a foreign transaction fee.",
        ["payment", "international"],
        [
            "can i pay in euros",
            "prices in CAD?",
            "will i be charged in my local money",
        ],
    ),
    _faq(
        "en-payment-when-charged", "faq",
        "When will my card be charged?",
        "We authorize your card when you place the order and charge it when the order ships. If "
        "your order ships in several packages, you may see a separate charge for each one.",
        ["payment", "orders"],
        [
            "why do i see 2 charges",
            "when do you actually take the money",
            "there's a pending authorization on my card",
        ],
    ),
    _faq(
        "en-payment-welcome-discount", "faq",
        "Is there a discount for my first order?",
        "Sign up for our newsletter and we'll email you a one-time code for 10% off your first "
        "order.",
        ["payment", "promotions"],
        [
            "new customer discount?",
            "any welcome coupon",
            "do first time buyers get something off",
        ],
    ),
    # --- account and privacy ---------------------------------------------------------------
    _faq(
        "en-account-guest-checkout", "faq",
        "Do I need an account to place an order?",
        "No, you can check out as a guest. An account lets you track orders, start returns and "
        "earn Brightcart Rewards points, and signing up later with the same email links your past "
        "guest orders.",
        ["account"],
        [
            "can i buy without signing up",
            "is registration required",
            "why should i make an account",
        ],
    ),
    _faq(
        "en-account-password-reset", "faq",
        "I forgot my password. How do I reset it?",
        "Click \"Forgot password\" on the sign-in page and we'll email you a reset link that is "
        "valid for 1 hour. If it doesn't arrive within a few minutes, check your spam folder.",
        ["account"],
        [
            "cant log in",
            "locked out of my account",
            "pasword reset link not working",
        ],
    ),
    _faq(
        "en-account-update-details", "faq",
        "How do I change my email address or saved addresses?",
        "Go to Account > Profile to change your name, email, phone number or saved addresses. A "
        "new email address has to be confirmed with a link we send to it.",
        ["account", "address"],
        [
            "update my phone number",
            "how to edit my default address",
            "want to use a different email for my account",
        ],
    ),
    _faq(
        "en-account-delete", "faq",
        "How do I delete my account?",
        "Go to Account > Privacy > Delete account, or ask us to do it for you. We confirm by "
        "email and delete your personal data within 30 days, keeping only the order records the "
        "law requires us to keep.",
        ["account", "privacy"],
        [
            "close my brightcart account",
            "remove all my info from your site",
            "i want you to erase my data",
        ],
    ),
    _faq(
        "en-privacy-data", "faq",
        "How do you use my personal data?",
        "We use your data only to process orders, support you and, if you opt in, send you "
        "offers; we never sell your personal data. You can download a copy of it under Account > "
        "Privacy.",
        ["privacy"],
        [
            "do you sell my info",
            "what data do you keep on me",
            "can i get a copy of my personal information",
        ],
    ),
    _faq(
        "en-privacy-marketing", "faq",
        "How do I stop marketing emails?",
        "Click \"Unsubscribe\" at the bottom of any marketing email or turn messages off under "
        "Account > Notifications. Order and shipping emails will still reach you.",
        ["privacy", "account"],
        [
            "too many promo emails",
            "how to unsubscribe",
            "stop sending me newsletters pls",
        ],
    ),
    _faq(
        "en-account-security", "faq",
        "How can I keep my account secure?",
        "Turn on two-step verification under Account > Security. Brightcart will never ask for "
        "your password or full card number by chat, email or phone.",
        ["account", "privacy"],
        [
            "got a weird email asking for my password, is it you",
            "does brightcart have 2fa",
            "someone might have accessed my account",
        ],
    ),
    # --- warranty, repairs and care --------------------------------------------------------
    _faq(
        "en-warranty-electronics", "policy",
        "What warranty do electronics come with?",
        "All electronics we sell, including audio, mobile accessories, computing, wearables, "
        "smart home and gaming, come with a 12-month warranty from the delivery date that covers "
        "manufacturing defects. Accidental damage, liquid damage and normal wear aren't covered.",
        ["warranty", "electronics"],
        [
            "how long are headphones guaranteed",
            "is my laptop covered if it breaks",
            "whats the guarantee on gadgets",
        ],
    ),
    _faq(
        "en-warranty-claim", "faq",
        "How do I make a warranty claim?",
        "Open the order in Account > My Orders, choose \"Get help\" > \"Warranty claim\" and "
        "describe the problem with a photo or short video. If it's covered, we send a prepaid "
        "shipping label and repair or replace the item within 10 business days of receiving it.",
        ["warranty", "repairs"],
        [
            "my watch stopped working after 4 months",
            "how do i get something repaired under guarantee",
            "file a claim for a faulty product",
        ],
    ),
    _faq(
        "en-warranty-kitchen", "policy",
        "What warranty do kitchen appliances have?",
        "Kitchen appliances come with a 24-month warranty from the delivery date against "
        "manufacturing defects, such as a motor or heating element failing. Damage from misuse, "
        "drops or the wrong voltage isn't covered.",
        ["warranty", "kitchen"],
        [
            "how long is the coffee maker guaranteed",
            "blender motor died after a year, covered?",
            "air fryer warranty length",
        ],
    ),
    _faq(
        "en-warranty-footwear-apparel", "policy",
        "Are shoes and clothing covered by a warranty?",
        "Footwear and apparel are covered for 90 days from the delivery date against "
        "manufacturing defects such as split seams or soles coming loose. Normal wear and tear "
        "isn't covered.",
        ["warranty", "footwear", "apparel"],
        [
            "sole of my running shoe is peeling off after a month",
            "seam ripped on my jacket, is that covered",
            "do sneakers have a guarantee",
        ],
    ),
    _faq(
        "en-warranty-outdoor", "policy",
        "What warranty does outdoor gear have?",
        "Outdoor gear such as tents, backpacks and camping stoves comes with a 12-month warranty "
        "from the delivery date against manufacturing defects. Damage from misuse or normal wear "
        "isn't covered.",
        ["warranty", "outdoor"],
        [
            "tent zipper broke on the second trip",
            "is camping stuff guaranteed",
            "my backpack strap snapped, warranty?",
        ],
    ),
    _faq(
        "en-warranty-expired", "faq",
        "My item's warranty has run out. Can you still repair it?",
        "Once the warranty has ended we can't repair or replace the item for free, but we'll "
        "point you to the brand's authorized repair service. Tell me the product and I'll find "
        "the right contact.",
        ["warranty", "repairs"],
        [
            "out of warranty repair options",
            "2 years old and broken, anything you can do",
            "where can i get my old earbuds fixed",
        ],
    ),
    _faq(
        "en-sizing-shoes", "faq",
        "How do your running shoes fit?",
        "Trailrunner 5 Running Shoes run true to size; if you're between sizes, go half a size "
        "up, and a wide (2E) version is available. Every shoe page has a size chart in US, UK, EU "
        "and centimeters, and exchanges for another size are free within 30 days of delivery.",
        ["sizing", "footwear"],
        [
            "do trailrunner 5s run small",
            "im a 10.5 in nike, what size should i get",
            "do you have wide fit shoes",
        ],
    ),
    _faq(
        "en-sizing-apparel", "faq",
        "How do I choose the right clothing size?",
        "Use the size chart on the product page and measure your chest, waist and hips; our "
        "apparel follows standard US sizing. The product's \"Fit\" notes tell you whether it runs "
        "slim or relaxed if you're between sizes.",
        ["sizing", "apparel"],
        [
            "is the hoodie true to size",
            "which size for a 40 inch chest",
            "does your clothing run big",
        ],
    ),
    _faq(
        "en-apparel-care", "faq",
        "How should I wash my clothes from Brightcart?",
        "Follow the care label; most of our cotton and performance pieces should be washed cold, "
        "inside out, and tumble dried on low. Skip fabric softener on performance fabrics because "
        "it blocks their moisture-wicking.",
        ["apparel", "care"],
        [
            "can i put the running jacket in the dryer",
            "will this shirt shrink",
            "washing instructions for workout clothes",
        ],
    ),
    _faq(
        "en-kitchen-safety", "faq",
        "How do I use kitchen appliances safely?",
        "Read the manual before first use, place the appliance on a flat, dry, heat-resistant "
        "surface, and never put the base or cord in water. Our kitchen appliances are built for "
        "US 120V outlets, so don't use them abroad with only a plug adapter.",
        ["kitchen", "safety"],
        [
            "can i wash the kettle base under the tap",
            "will my toaster work in europe",
            "safety tips for the air fryer",
        ],
    ),
    # --- product help ----------------------------------------------------------------------
    _faq(
        "en-aurora-pairing", "faq",
        "How do I pair my Aurora X200 Wireless Earbuds with my phone?",
        "Put both earbuds in the case, open the lid and hold the case button for 3 seconds until "
        "the light flashes white. Then choose \"Aurora X200\" in your phone's Bluetooth settings; "
        "the earbuds use Bluetooth 5.3 and work with both iOS and Android.",
        ["product-help", "audio", "bluetooth"],
        [
            "earbuds wont connect to my iphone",
            "how to get the x200 into pairing mode",
            "connecting aurora buds to android",
        ],
    ),
    _faq(
        "en-aurora-reset", "faq",
        "One of my Aurora X200 earbuds isn't working. How do I reset them?",
        "Put both earbuds in the case, keep the lid open and hold the case button for 15 seconds "
        "until the light flashes amber, then remove \"Aurora X200\" from your phone's Bluetooth "
        "list and pair again. If one earbud is still silent, it may be a defect covered by the "
        "12-month electronics warranty.",
        ["product-help", "audio", "bluetooth"],
        [
            "left bud has no sound",
            "only the right earbud plays music",
            "factory reset aurora x200",
        ],
    ),
    _faq(
        "en-aurora-charging-case", "faq",
        "How do I charge the Aurora X200 Charging Case, and how long does the battery last?",
        "The Aurora X200 Charging Case charges over USB-C and takes about 2 hours to fill; the "
        "light turns solid green when it's full. The earbuds play for up to 8 hours per charge "
        "and up to 30 hours in total with the case.",
        ["product-help", "audio", "battery"],
        [
            "how many hours of music do the x200 get",
            "what cable does the earbud case use",
            "is the case fully charged when the light is green",
        ],
    ),
    _faq(
        "en-aurora-replacement-case", "faq",
        "I lost my earbuds' charging case. Can I buy just the case?",
        "Yes, the Aurora X200 Charging Case is sold separately as an accessory in our audio "
        "category. It pairs with your existing Aurora X200 earbuds as soon as you put them in.",
        ["product-help", "audio", "accessories"],
        [
            "case went missing, do you sell a new one",
            "replacement charger box for aurora buds",
            "can i get a spare case for my x200",
        ],
    ),
    _faq(
        "en-battery-care", "faq",
        "How do I look after the battery in my devices?",
        "Keep devices away from heat and don't leave them in a hot car. For storage longer than a "
        "month, charge to about 50% and top up every 3 months, using the included cable or a "
        "certified USB-C charger.",
        ["product-help", "battery"],
        [
            "how to make my earbuds battery last longer",
            "is it bad to charge overnight",
            "storing a smartwatch for the winter, any tips",
        ],
    ),
    _faq(
        "en-smartwatch-compatibility", "faq",
        "Will a smartwatch work with my phone?",
        "Each smartwatch lists its compatibility on the product page; our smartwatches generally "
        "work with iPhone on iOS 16 or later and Android 10 or later through the brand's "
        "companion app. Some features, like replying to messages, may be available on only one "
        "platform.",
        ["product-help", "wearables"],
        [
            "does the watch support samsung phones",
            "i have an iphone 11 will it pair",
            "fitness tracker compatible with android?",
        ],
    ),
    _faq(
        "en-smart-home-setup", "faq",
        "My smart home device won't connect to Wi-Fi. What should I do?",
        "Most of our smart home devices need a 2.4 GHz Wi-Fi network, so keep your phone on the "
        "2.4 GHz network during setup. They work with Amazon Alexa and Google Home; the product "
        "page says whether Apple Home is supported.",
        ["product-help", "smart-home"],
        [
            "smart plug setup keeps failing",
            "bulb not showing up in the app",
            "does the camera work with alexa",
        ],
    ),
    _faq(
        "en-gaming-controller-drift", "faq",
        "My game controller's stick is drifting. Is that covered?",
        "Stick drift is treated as a manufacturing defect and is covered by the 12-month "
        "electronics warranty. Start a warranty claim in Account > My Orders > Get help.",
        ["product-help", "gaming", "warranty"],
        [
            "joystick moves on its own",
            "controller analog stick broken after few months",
            "my gamepad keeps drifting left",
        ],
    ),
    # --- store pickup ----------------------------------------------------------------------
    _faq(
        "en-pickup-how", "faq",
        "Can I pick up my order in a store?",
        "Yes, choose \"Store pickup\" at checkout to collect your order for free at a Brightcart "
        "store in Seattle, Austin, Chicago or New York. We email you when it's ready, usually "
        "within 2 hours for in-stock items.",
        ["pickup", "store"],
        [
            "click and collect available?",
            "can i grab it at the austin shop",
            "skip delivery and get it myself",
        ],
    ),
    _faq(
        "en-pickup-what-to-bring", "faq",
        "What do I need to bring to collect a store pickup order?",
        "Bring a photo ID and your order number or the pickup email; we hold pickup orders for 7 "
        "days. Orders not collected by then are cancelled and refunded to your original payment "
        "method.",
        ["pickup", "store"],
        [
            "can my husband pick up for me",
            "how long will you keep my order at the store",
            "do i have to show ID when i come get it",
        ],
    ),
    _faq(
        "en-store-hours", "faq",
        "What are your store opening hours?",
        "Brightcart stores are open Monday–Saturday 10 am–9 pm and Sunday 11 am–6 pm local time. "
        "Holiday hours are posted on each store's page.",
        ["store", "hours"],
        [
            "when does the seattle shop open",
            "are you open sundays",
            "what time do stores close",
        ],
    ),
    # --- membership ------------------------------------------------------------------------
    _faq(
        "en-rewards-program", "faq",
        "What is Brightcart Rewards?",
        "Brightcart Rewards is our free loyalty program: you earn 1 point for every $1 you spend, "
        "and 100 points give you $5 off. Members also get a birthday reward and early access to "
        "sales.",
        ["membership", "rewards"],
        [
            "do you have a loyalty program",
            "how do points work",
            "is the membership free",
        ],
    ),
    _faq(
        "en-rewards-points-posting", "faq",
        "When do my Rewards points show up, and do they expire?",
        "Points are added to your account 30 days after delivery, once the return window has "
        "closed. They expire if your account has no activity for 12 months.",
        ["membership", "rewards"],
        [
            "didnt get points for my last order",
            "do reward points run out",
            "why are my points still pending",
        ],
    ),
    _faq(
        "en-rewards-redeem", "faq",
        "How do I use my Rewards points?",
        "At checkout, tick \"Use Rewards\" to apply your points in $5 steps of 100 points each. "
        "Points can't be exchanged for cash or used to buy gift cards.",
        ["membership", "rewards", "payment"],
        [
            "spend my points",
            "can i cash out my rewards",
            "how to redeem points on an order",
        ],
    ),
    _faq(
        "en-rewards-gold", "faq",
        "What is Gold status in Brightcart Rewards?",
        "Spend $500 or more in a calendar year and you're Gold for the following year, earning 2 "
        "points per $1 and free gift wrap on every order.",
        ["membership", "rewards"],
        [
            "how do i get to the next tier",
            "perks of gold members",
            "vip level benefits?",
        ],
    ),
    # --- contact and hours -----------------------------------------------------------------
    _faq(
        "en-contact-human", "faq",
        "How do I talk to a real person?",
        "Type \"agent\" at any time and I'll hand you over to our support team. You can also call "
        "1-800-555-0199 or email support@brightcart.com, and we answer emails within 24 hours.",
        ["contact", "support"],
        [
            "i want to speak to a human",
            "whats your phone number",
            "connect me with customer service pls",
        ],
    ),
    _faq(
        "en-support-hours", "faq",
        "When is customer service available?",
        "Our support team is available by live chat and phone Monday–Friday 8 am–8 pm ET and "
        "Saturday–Sunday 9 am–5 pm ET. This virtual assistant is available 24/7.",
        ["contact", "hours"],
        [
            "are agents online on weekends",
            "what time does support close",
            "can i call you at 9pm",
        ],
    ),
    _faq(
        "en-contact-chinese", "faq",
        "Do you have Chinese-speaking support?",
        "Yes, Chinese-speaking agents are available on live chat Monday–Friday 9 am–5 pm ET, and "
        "this assistant understands Chinese at any time.",
        ["contact", "language"],
        [
            "can my mom talk to someone in mandarin",
            "support in chinese?",
            "any agents who speak chinese",
        ],
    ),
]

_ZH: list[dict] = [
    # --- 退货和换货 ------------------------------------------------------------------------
    _faq(
        "zh-returns-window", "policy",
        "退货政策是什么？",
        "收货后30天内都可以申请退货，商品需未使用并保持原包装完好。在“我的订单”中提交退货后，我们会把预付运费的退货面单发到您的邮箱，寄回不用您出运费。",
        ["returns", "policy"],
        [
            "买的东西不喜欢能退吗",
            "退货期限是多久啊",
            "收到快三周了还能退不？",
        ],
    ),
    _faq(
        "zh-returns-no-reason", "policy",
        "支持七天无理由退货吗？",
        "支持，而且时间更宽裕：Brightcart支持30天内退货（从收货当天算起），不需要说明理由，只要商品未使用、包装完好即可。",
        ["returns", "policy"],
        [
            "7天无理由吗",
            "不喜欢可以直接退吗，要说原因不",
            "没有质量问题也能退货吗",
        ],
    ),
    _faq(
        "zh-returns-how-to", "faq",
        "怎么申请退货？",
        "在“账户 > 我的订单”里选择订单，点击“退货”，或者直接把订单号告诉我。我们会发送预付运费的退货面单，收货后30天内把包裹交给任意UPS网点即可。",
        ["returns"],
        [
            "退货流程是怎样的",
            "想把鞋子寄回去要怎么操作",
            "在哪里点退货啊",
        ],
    ),
    _faq(
        "zh-returns-cost", "faq",
        "退货运费谁来出？",
        "退货运费由我们承担：收货后30天内的退货都附带预付运费的退货面单，也不收任何手续费。",
        ["returns", "shipping"],
        [
            "寄回去要我自己付邮费吗",
            "退回来要扣手续费吗",
            "退的时候快递费怎么算",
        ],
    ),
    _faq(
        "zh-returns-opened-electronics", "faq",
        "拆封了的电子产品还能退吗？",
        "可以。拆封的电子产品在收货后30天内可以退货，前提是没有损坏、保持原状并带齐所有配件和包装。寄回前请先解除蓝牙配对或恢复出厂设置，并退出您的账号。",
        ["returns", "electronics"],
        [
            "耳机拆开试了一下还能退不",
            "包装盒拆了可以退吗",
            "手表已经开过机了，能退货吗",
        ],
    ),
    _faq(
        "zh-returns-non-returnable", "faq",
        "哪些商品不能退货？",
        "礼品卡、下载类软件、已显示的游戏兑换码以及标注“Final sale（最终售出）”的商品不支持退货。其他商品只要未使用、保持原状，都可以在收货后30天内退货。",
        ["returns"],
        [
            "有没有不给退的东西",
            "游戏激活码能退吗",
            "final sale的商品可以退吗",
        ],
    ),
    _faq(
        "zh-exchanges", "policy",
        "可以换尺码或换颜色吗？",
        "可以，收货后30天内换尺码或颜色都是免费的。在“我的订单”中选择“换货”，用预付退货面单寄回原商品，承运商一扫描包裹我们就寄出新的。",
        ["returns", "exchanges"],
        [
            "鞋子小了想换大一码",
            "衣服颜色不喜欢能换吗",
            "换货怎么弄",
        ],
    ),
    _faq(
        "zh-returns-damaged", "faq",
        "收到的商品坏了怎么办？",
        "非常抱歉！请在收货后30天内通过“我的订单 > 获取帮助”上传照片反馈，我们会免费补发新品或全额退款（包括您支付的运费），并提供预付运费的退货面单寄回有问题的商品。",
        ["returns", "defective"],
        [
            "东西到了是坏的",
            "快递送来搅拌机就摔裂了",
            "新买的耳机开不了机",
        ],
    ),
    _faq(
        "zh-returns-condition", "faq",
        "退货对商品状态有什么要求？",
        "退回的商品需未使用并保持原状，吊牌、配件、说明书和原包装都要齐全。试穿鞋子请只在室内进行，保持鞋底干净。",
        ["returns"],
        [
            "穿出去过的还能退吗",
            "没有原包装盒能退款吗",
            "吊牌剪了还能退不",
        ],
    ),
    _faq(
        "zh-returns-wrong-item", "faq",
        "收到的商品发错了怎么办？",
        "我们会马上为您处理：通过邮件发送预付运费的退货面单，用来寄回发错的商品，同时免费用加急配送把正确的商品寄给您。"
        "您可以在“账户 > 我的订单 > 获取帮助”中反馈，或者直接把订单号告诉我。",
        ["returns", "orders"],
        [
            "买的蓝色卫衣寄来是红色的",
            "这不是我买的东西",
            "发错货了",
        ],
    ),
    _faq(
        "zh-returns-in-store", "faq",
        "网上买的东西能拿到门店退吗？",
        "可以，收货后30天内带上商品和订单号，到任意一家Brightcart门店都能办理退货。门店会把商品转寄到我们的仓库，商品到仓后5–7个工作日内，退款会退回您的原支付方式。",
        ["returns", "store"],
        [
            "网购的能去芝加哥店里退吗",
            "官网买的门店收不收退货",
            "可以线下退货吗",
        ],
    ),
    _faq(
        "zh-returns-late", "faq",
        "超过30天了还能退货吗？",
        "退货只受理收货后30天内的申请，超过这个期限就无法退货了。如果商品有质量问题，可能仍在保修范围内，我可以帮您申请保修。",
        ["returns", "warranty"],
        [
            "过了退货期限怎么办",
            "买了6个星期了还能退吗",
            "退货期过了东西还没拆封",
        ],
    ),
    # --- 退款 ------------------------------------------------------------------------------
    _faq(
        "zh-refunds-timing", "policy",
        "退款多久能到账？",
        "退货送达我们的仓库后，退款会在5–7个工作日内退回您的原支付方式。仓库签收和退款发出时，我们都会发邮件通知您。",
        ["refunds", "policy"],
        [
            "钱什么时候退回来",
            "退款要几天到帐啊",
            "东西寄回去了钱还没到",
        ],
    ),
    _faq(
        "zh-refunds-method", "faq",
        "退款可以退到别的卡上吗？",
        "退款只会退回原支付方式，无法转到其他银行卡或账户。如果原来的卡已经注销或换卡，发卡银行会把款项转到您的新卡或账户。",
        ["refunds", "payment"],
        [
            "能不能退到我的paypal",
            "原来那张卡注销了钱退到哪",
            "退款能换成店铺余额吗",
        ],
    ),
    _faq(
        "zh-refunds-status", "faq",
        "怎么查看退款进度？",
        "在“我的订单”中打开订单：仓库收到包裹后会显示“Return received（已收到退货）”，退款发出后显示“Refund issued（已退款）”。退款会在退货送达仓库后5–"
        "7个工作日内退回原支付方式。",
        ["refunds"],
        [
            "我的退款到哪一步了",
            "你们收到我寄回的包裹没",
            "怎么知道钱退了没有",
        ],
    ),
    _faq(
        "zh-refunds-shipping-fee", "faq",
        "运费能退吗？",
        "如果商品有质量问题、运输中损坏或发错了货，我们会连同您支付的运费一起退还；其余情况的退货只退商品价格，不退原订单的运费。用我们的预付退货面单寄回商品，始终是免费的。",
        ["refunds", "shipping"],
        [
            "我付的5.99运费会退给我吗",
            "加急的运费可以退吗",
            "退款包含邮费吗",
        ],
    ),
    _faq(
        "zh-refunds-cancelled-order", "faq",
        "取消订单后，付的款多久能退回？",
        "订单取消后，我们会立即释放这笔付款。视您的银行而定，5–7个工作日内待入账的扣款会消失，或者退款会到账。",
        ["refunds", "orders"],
        [
            "取消了卡上还显示扣款",
            "撤单以后多久退钱",
            "取消的订单还有一笔待入账没退",
        ],
    ),
    # --- 配送 ------------------------------------------------------------------------------
    _faq(
        "zh-shipping-costs", "policy",
        "运费怎么算？",
        "订单金额超过49美元免标准运费，49美元及以下的订单标准运费为5.99美元，3–5个工作日送达。加急配送1–2个工作日送达，任何订单都收取14.99美元。",
        ["shipping", "policy"],
        [
            "邮费多少钱",
            "买30刀的东西要付多少运费",
            "加急要加多少钱",
        ],
    ),
    _faq(
        "zh-shipping-free-threshold", "policy",
        "包邮吗？",
        "订单金额超过49美元就免标准运费；49美元及以下的订单收取5.99美元标准运费。",
        ["shipping", "policy"],
        [
            "满多少包邮",
            "买多少钱可以免运费",
            "有没有免邮门槛",
        ],
    ),
    _faq(
        "zh-shipping-times", "faq",
        "下单后多久能收到？",
        "美国东部时间周一至周五下午2点前下单，当天就会发货。发货后标准配送需要3–5个工作日，加急配送需要1–2个工作日。",
        ["shipping"],
        [
            "几天能到啊",
            "今天买周五能收到吗",
            "什么时候发货",
        ],
    ),
    _faq(
        "zh-shipping-international", "faq",
        "可以寄到中国吗？国际运费多少？",
        "可以，我们配送到包括中国大陆在内的40多个国家和地区，国际运费统一为24.99美元，一般7–14个工作日送达。超过49美元免运费只适用于美国境内地址。",
        ["shipping", "international"],
        [
            "能发国内吗",
            "寄到上海要多久",
            "海外直邮运费贵不贵",
        ],
    ),
    _faq(
        "zh-shipping-customs", "faq",
        "国际订单要交关税吗？",
        "国际订单的关税和进口税会在结账时计算并一并收取，包裹送达时不需要再另外付钱。付款前您就能看到具体金额。",
        ["shipping", "international"],
        [
            "寄到中国要补税吗",
            "进口税谁付",
            "收件的时候还要再交钱吗",
        ],
    ),
    _faq(
        "zh-shipping-tracking", "faq",
        "怎么查物流？",
        "订单发货后我们会通过邮件发送运单号和查询链接，您也可以在“我的订单”中查看，或者直接把订单号告诉我。运单号生成后最多需要24小时才会出现第一条物流信息。",
        ["shipping", "tracking"],
        [
            "我的快递到哪了",
            "给我一下快递单号",
            "包裹现在在哪里",
        ],
    ),
    _faq(
        "zh-shipping-delayed", "faq",
        "物流好几天没更新怎么办？",
        "天气或承运商积压有时会让配送晚一两天，请先查看物流链接。如果物流信息连续5个工作日没有更新，请联系我们，我们会向承运商发起调查。",
        ["shipping", "delays"],
        [
            "快递一直不动",
            "说好昨天到的还没来",
            "包裹卡在路上了",
        ],
    ),
    _faq(
        "zh-shipping-lost", "faq",
        "显示已签收但我没收到包裹怎么办？",
        "请先看看门口、信箱或问问邻居，并等待48小时，因为承运商有时会提前标记签收。如果仍然找不到，请联系我们，我们会免费补发或全额退款。",
        ["shipping", "lost"],
        [
            "快递显示签收了但是没有东西",
            "包裹被偷了怎么办",
            "快递丢件了",
        ],
    ),
    _faq(
        "zh-shipping-dispatch", "faq",
        "订单什么时候发出？",
        "美国东部时间周一至周五下午2点前下单，当天发货；之后的订单和周末的订单会在下一个工作日发货。包裹一离开仓库，我们就会发邮件把运单号告诉您。",
        ["shipping", "orders"],
        [
            "几点前下单能当天发",
            "周六下的单哪天发出",
            "多久才给我发货",
        ],
    ),
    _faq(
        "zh-shipping-express", "faq",
        "有加急或次日达吗？",
        "加急配送1–2个工作日送达，任何订单都收取14.99美元。订单超过49美元可免标准运费，但加急配送始终要收费；我们不提供当日达或周末配送。",
        ["shipping"],
        [
            "明天能送到吗",
            "急用有没有更快的",
            "能不能隔天到",
        ],
    ),
    _faq(
        "zh-shipping-carriers", "faq",
        "你们用哪家快递？",
        "美国境内订单根据包裹大小和目的地由UPS或USPS配送，国际订单由DHL配送。承运商不能指定，但物流链接对所有承运商都适用。",
        ["shipping", "tracking"],
        [
            "是发fedex还是ups",
            "寄国外用的什么快递",
            "能指定usps吗",
        ],
    ),
    _faq(
        "zh-shipping-po-box", "faq",
        "可以寄到邮政信箱或军邮地址吗？",
        "标准配送可以通过USPS寄到邮政信箱（PO box）以及APO/FPO/DPO军邮地址。加急配送必须填写街道地址。",
        ["shipping"],
        [
            "po box能收货吗",
            "我在海外驻军能寄到apo吗",
            "加急可以寄信箱吗",
        ],
    ),
    _faq(
        "zh-shipping-split", "faq",
        "为什么只收到了一部分商品？",
        "存放在不同仓库的商品会分开发货，不额外收费，每个包裹在“账户 > 我的订单”里都有各自的运单号。订单里的其他商品正在路上。",
        ["shipping", "orders"],
        [
            "买了两样只到了一样",
            "箱子里少了东西",
            "怎么分成好几个包裹寄来了",
        ],
    ),
    # --- 订单 ------------------------------------------------------------------------------
    _faq(
        "zh-orders-cancel", "faq",
        "怎么取消订单？",
        "订单状态为“Processing（处理中）”时，您可以在“我的订单”中直接取消，通常是下单后的1小时内。订单发货后就无法取消了，但收货后30天内可以退货退款。",
        ["orders", "cancel"],
        [
            "不想要了能撤单吗",
            "刚下的单怎么撤销",
            "买错了帮我取消一下",
        ],
    ),
    _faq(
        "zh-orders-address-change", "faq",
        "下单后可以修改收货地址吗？",
        "订单还在“Processing（处理中）”状态时，可以在“我的订单”里修改地址。如果已经发货，可以在承运商的物流页面申请改派，或联系我们帮您处理。",
        ["orders", "shipping", "address"],
        [
            "地址填错了",
            "我搬家了想改收件地址",
            "能把包裹改寄到公司吗",
        ],
    ),
    _faq(
        "zh-orders-change", "faq",
        "下单后能修改商品吗？",
        "订单还在“Processing（处理中）”时，可以在“我的订单”里修改尺码、颜色或数量，也可以让我帮您改。发货后无法修改，但收货后30天内可以免费换尺码或颜色。",
        ["orders"],
        [
            "尺码选错了还没发货能改吗",
            "能再加一件吗",
            "订单里的颜色可以换一下吗",
        ],
    ),
    _faq(
        "zh-orders-invoice", "faq",
        "可以开发票吗？",
        "可以，在“我的订单”中打开订单，点击“Download invoice（下载发票）”即可获取PDF电子发票，订单确认邮件里也有收据。Brightcart是美国商店，无法开具中国增"
        "值税发票；如需显示公司名称或税号，请先在“账户 > 账单信息”中填写。",
        ["orders", "invoice"],
        [
            "要报销怎么弄发票",
            "能开公司抬头吗",
            "增值税专票能开不",
        ],
    ),
    _faq(
        "zh-orders-history", "faq",
        "在哪里查看历史订单？",
        "登录后打开“账户 > 我的订单”，就能看到所有订单的状态、物流和发票。以访客身份下的订单，用同一邮箱注册账户后也会显示在这里。",
        ["orders", "account"],
        [
            "以前买过的东西在哪看",
            "找不到上个月的订单了",
            "购买记录怎么查",
        ],
    ),
    _faq(
        "zh-orders-confirmation-missing", "faq",
        "没收到订单确认邮件，下单成功了吗？",
        "确认邮件通常15分钟内就会送达，请先看看垃圾邮件或促销邮件文件夹。如果还是没有，您的订单依然会显示在“账户 > 我的订单”中，我也可以帮您重新发送确认邮件。",
        ["orders"],
        [
            "付完款没收到邮件",
            "不知道买成功没有",
            "订单确认信一直没来",
        ],
    ),
    _faq(
        "zh-orders-out-of-stock", "faq",
        "想买的商品缺货了，还会补货吗？",
        "在商品页点击“Notify me（到货通知）”，到货后我们会发邮件通知您。我们不接受缺货预订，所以绝不会为无法发货的商品向您收费。",
        ["orders", "stock"],
        [
            "卖完的耳机什么时候有货",
            "没货的能预订吗",
            "补货了能提醒我吗",
        ],
    ),
    _faq(
        "zh-orders-status-meaning", "faq",
        "订单状态分别是什么意思？",
        "“Processing（处理中）”表示我们正在准备您的订单，这时还可以修改或取消；“Shipped（已发货）”表示包裹已交给承运商，"
        "并有运单号。“Delivered（已签收）”表示承运商已确认送达，30天退货期从这时开始计算。",
        ["orders"],
        [
            "订单一直显示processing是啥意思",
            "已发货和已签收有什么区别",
            "显示delivered之后会怎样",
        ],
    ),
    _faq(
        "zh-orders-gift-wrap", "faq",
        "可以提供礼品包装或礼品收据吗？",
        "结账时可以添加礼品包装，每件4.99美元，还可以免费附上祝福留言。您也可以选择礼品收据，装箱单上就不会显示价格。",
        ["orders", "gifts"],
        [
            "送人的能帮忙包一下吗",
            "装箱单上能不显示价格吗",
            "可以附张卡片写几句话吗",
        ],
    ),
    _faq(
        "zh-orders-sales-tax", "faq",
        "你们收销售税吗？",
        "我们会在法律要求的地区，根据您的收货地址收取销售税。具体金额会在您付款前的结账页面上显示。",
        ["orders", "payment"],
        [
            "为什么订单上多了税",
            "寄到俄勒冈要交税吗",
            "税是怎么算的",
        ],
    ),
    # --- 支付 ------------------------------------------------------------------------------
    _faq(
        "zh-payment-methods", "faq",
        "支持哪些支付方式？",
        "我们支持Visa、Mastercard、American Express、Discover、PayPal、Apple Pay、Google Pay以及Brightcart礼品卡。"
        "所有商品均以美元标价。",
        ["payment"],
        [
            "能用paypal付吗",
            "付款方式有哪些",
            "可以刷信用卡吗",
        ],
    ),
    _faq(
        "zh-payment-alipay-wechat", "faq",
        "可以用支付宝或微信支付吗？",
        "暂时不支持支付宝和微信支付。您可以使用Visa、Mastercard、American Express、Discover、PayPal、Apple Pay、Google Pay或"
        "Brightcart礼品卡付款。",
        ["payment"],
        [
            "支持微信付款吗",
            "能不能用alipay",
            "你们收不收微信钱包",
        ],
    ),
    _faq(
        "zh-payment-failed", "faq",
        "付款失败怎么办？",
        "请检查卡号、有效期和CVV是否正确，账单地址是否与银行登记的一致，然后重试或换一种支付方式。如果还是失败，可能是银行拦截了这笔交易，给发卡行打个电话通常就能解决。",
        ["payment"],
        [
            "信用卡一直被拒",
            "支付不成功",
            "结账的时候提示交易失败",
        ],
    ),
    _faq(
        "zh-payment-installments", "faq",
        "可以分期付款吗？",
        "可以，订单满100美元即可在结账时选择Affirm，分3、6或12期按月付款。确认前Affirm会显示利率，部分活动可享0%利率。",
        ["payment", "installments"],
        [
            "能分期吗",
            "买电脑可以分几个月付",
            "有先买后付吗",
        ],
    ),
    _faq(
        "zh-payment-gift-cards", "faq",
        "Brightcart礼品卡怎么用？",
        "Brightcart礼品卡面额从25美元到500美元，永不过期，结账时可以和其他支付方式组合使用。在“账户 > 礼品卡”中可以查询余额。",
        ["payment", "gift-cards"],
        [
            "礼品卡会过期吗",
            "怎么查礼品卡余额",
            "礼品卡能和信用卡一起用吗",
        ],
    ),
    _faq(
        "zh-payment-promo-codes", "faq",
        "优惠码怎么用？",
        "在结账页面付款前，把优惠码填入“Promo code”框即可，每个订单只能使用一个优惠码。下单后不能再补用优惠码，购买礼品卡也不能使用优惠码。",
        ["payment", "promotions"],
        [
            "折扣码填在哪",
            "两张优惠券能叠加吗",
            "忘了用优惠码能补吗",
        ],
    ),
    _faq(
        "zh-payment-price-adjustment", "policy",
        "买完就降价了，能补差价吗？",
        "如果Brightcart在您购买后14天内降价，我们会为每件商品补一次差价。带上订单号联系我们即可；限时秒杀和清仓价格不参与。",
        ["payment", "price-adjustment"],
        [
            "刚买就便宜了",
            "有价保吗",
            "降价了能退差价吗",
        ],
    ),
    _faq(
        "zh-payment-promo-not-working", "faq",
        "优惠码为什么用不了？",
        "请检查优惠码的有效期和使用条件，很多优惠码要求订单达到最低金额，或者不适用于部分品牌和特价商品。如果确认应该能用却还是不行，把优惠码发给我，我来帮您查一下。",
        ["payment", "promotions"],
        [
            "提示优惠券无效",
            "折扣码结账时没生效",
            "券没过期但是用不了",
        ],
    ),
    _faq(
        "zh-payment-price-match", "policy",
        "别家卖得更便宜，你们能跟价吗？",
        "可以，Amazon、Best Buy、Walmart和Target在美国销售的同款全新、有现货的商品，我们会按它们的当前价格匹配。"
        "请在购买前或购买后14天内联系我们；第三方卖家（marketplace sellers）的价格和限时秒杀不参与。",
        ["payment", "price-adjustment"],
        [
            "best buy卖得更便宜能跟价吗",
            "别家比你们便宜怎么办",
            "沃尔玛同款搅拌机便宜一些",
        ],
    ),
    _faq(
        "zh-payment-currency", "faq",
        "可以用美元以外的货币付款吗？",
        "所有商品均以美元标价，如果您的卡是其他币种，发卡机构会自动换算金额。您的银行可能会收取外币交易手续费。",
        ["payment", "international"],
        [
            "能用人民币付吗",
            "可以按加元结算吗",
            "会用我本地的钱扣款吗",
        ],
    ),
    _faq(
        "zh-payment-when-charged", "faq",
        "什么时候从我的卡上扣款？",
        "下单时我们会对您的卡进行授权，订单发货时才正式扣款。如果订单分成几个包裹发出，您可能会看到每个包裹各有一笔扣款。",
        ["payment", "orders"],
        [
            "为啥扣了两笔钱",
            "你们什么时候真正扣钱",
            "卡上有一笔预授权是怎么回事",
        ],
    ),
    _faq(
        "zh-payment-welcome-discount", "faq",
        "新用户首单有折扣吗？",
        "订阅我们的新闻邮件（newsletter），我们就会通过邮件给您发一个首单享10%折扣的优惠码，仅限使用一次。",
        ["payment", "promotions"],
        [
            "新客有折扣吗",
            "有没有新人券",
            "第一次买能便宜点吗",
        ],
    ),
    # --- 保修、尺码和保养 ------------------------------------------------------------------
    _faq(
        "zh-warranty-electronics", "policy",
        "电子产品保修多久？",
        "我们销售的所有电子产品，包括音频、手机配件、电脑、穿戴设备、智能家居和游戏产品，自签收之日起享受12个月保修，涵盖制造缺陷。意外损坏、进液和正常磨损不在保修范围内。",
        ["warranty", "electronics"],
        [
            "耳机保修期多长",
            "电脑坏了保不保修",
            "数码产品质保几年",
        ],
    ),
    _faq(
        "zh-warranty-claim", "faq",
        "怎么申请保修？",
        "在“我的订单”中打开订单，选择“获取帮助 > 保修申请”，并附上照片或短视频说明问题。如符合保修条件，我们会提供预付运费的寄修面单，并在收到商品后10个工作日内完成维修或更换。",
        ["warranty", "repairs"],
        [
            "手表用了4个月坏了",
            "保修要怎么弄",
            "产品有毛病想返修",
        ],
    ),
    _faq(
        "zh-warranty-kitchen", "policy",
        "厨房电器保修多久？使用时要注意什么？",
        "厨房电器自签收之日起享受24个月保修，涵盖电机或加热元件故障等制造缺陷。我们的厨房电器按美国120V电压设计，请勿只用转换插头在海外使用，也不要把底座或电线浸入水中。",
        ["warranty", "kitchen", "safety"],
        [
            "咖啡机质保多久",
            "空气炸锅能带回国用吗",
            "电水壶底座能用水冲吗",
        ],
    ),
    _faq(
        "zh-warranty-footwear-apparel", "policy",
        "鞋子和衣服有保修吗？",
        "鞋服自签收之日起90天内，如出现开线、鞋底脱胶等制造缺陷，都在保修范围内。正常穿着磨损不在保修范围内。",
        ["warranty", "footwear", "apparel"],
        [
            "跑鞋穿一个月鞋底开胶了",
            "外套开线了怎么办",
            "衣服有质保吗",
        ],
    ),
    _faq(
        "zh-warranty-outdoor", "policy",
        "户外装备保修多久？",
        "帐篷、背包和露营炉等户外装备自签收之日起享受12个月保修，涵盖制造缺陷。使用不当或正常磨损造成的损坏不在保修范围内。",
        ["warranty", "outdoor"],
        [
            "帐篷拉链第二次用就坏了",
            "露营装备保修吗",
            "背包带子断了能保修吗",
        ],
    ),
    _faq(
        "zh-warranty-expired", "faq",
        "过了保修期还能维修吗？",
        "保修期结束后，我们无法免费维修或更换商品，但可以为您介绍该品牌的授权维修服务。告诉我是哪款商品，我帮您找到对应的联系方式。",
        ["warranty", "repairs"],
        [
            "过保了怎么修",
            "用了两年坏了还有办法吗",
            "旧耳机去哪修",
        ],
    ),
    _faq(
        "zh-sizing-shoes", "faq",
        "鞋子尺码怎么选？",
        "Trailrunner 5跑鞋尺码标准，如果介于两个尺码之间，建议选大半码，另有宽楦（2E）版本。每款鞋的商品页都有美码、英码、欧码和厘米对照表，收货后30天内换尺码免费。",
        ["sizing", "footwear"],
        [
            "平时穿42码该买几码",
            "这双跑鞋偏小吗",
            "脚宽能穿吗",
        ],
    ),
    _faq(
        "zh-sizing-apparel", "faq",
        "衣服尺码怎么选？",
        "请参考商品页的尺码表，量一下胸围、腰围和臀围；我们的服装采用美国标准尺码。如果介于两个尺码之间，可以看商品的“Fit”说明，了解版型偏修身还是宽松。",
        ["sizing", "apparel"],
        [
            "美码和国内码怎么对应",
            "175cm 70kg穿什么码",
            "这件卫衣偏大吗",
        ],
    ),
    _faq(
        "zh-apparel-care", "faq",
        "衣服怎么洗？",
        "请按照洗标说明洗涤，大多数棉质和运动面料的衣服建议翻面冷水洗、低温烘干。运动面料不要使用柔顺剂，否则会影响吸湿排汗效果。",
        ["apparel", "care"],
        [
            "运动外套能烘干吗",
            "会缩水吗",
            "速干衣洗涤注意事项",
        ],
    ),
    _faq(
        "zh-kitchen-safety", "faq",
        "厨房电器怎样安全使用？",
        "首次使用前请先阅读说明书，把电器放在平稳、干燥、耐热的台面上，切勿把底座或电线浸入水中。我们的厨房电器按美国120V插座设计，请不要只靠转换插头在国外使用。",
        ["kitchen", "safety"],
        [
            "水壶底座可以拿去洗吗",
            "面包机带到欧洲能用吗",
            "空气炸锅使用注意事项",
        ],
    ),
    # --- 商品使用 --------------------------------------------------------------------------
    _faq(
        "zh-aurora-pairing", "faq",
        "Aurora X200无线耳机怎么连接蓝牙？",
        "把两只耳机放进充电盒，打开盒盖，长按充电盒按钮3秒直到指示灯闪白光，然后在手机蓝牙设置中选择“Aurora X200”即可。耳机采用蓝牙5.3，iOS和安卓手机都能用。",
        ["product-help", "audio", "bluetooth"],
        [
            "耳机连不上手机",
            "x200怎么进入配对模式",
            "安卓手机能用这个耳机吗",
        ],
    ),
    _faq(
        "zh-aurora-reset", "faq",
        "Aurora X200耳机有一只不响了，怎么重置？",
        "把两只耳机放进充电盒，保持盒盖打开，长按充电盒按钮15秒直到指示灯闪琥珀色，然后在手机蓝牙列表中删除“Aurora X200”并重新配对。"
        "如果还是有一只没声音，可能是产品缺陷，在12个月电子产品保修范围内。",
        ["product-help", "audio", "bluetooth"],
        [
            "左耳没声音",
            "只有右边耳机有声",
            "x200怎么恢复出厂设置",
        ],
    ),
    _faq(
        "zh-aurora-charging-case", "faq",
        "Aurora X200充电盒怎么充电？续航多久？",
        "Aurora X200充电盒使用USB-C充电，大约2小时充满，充满后指示灯常亮绿色。耳机单次可播放最长8小时，配合充电盒总续航最长30小时。",
        ["product-help", "audio", "battery"],
        [
            "耳机能用多久",
            "充电盒用什么线充",
            "充满电要多长时间",
        ],
    ),
    _faq(
        "zh-aurora-replacement-case", "faq",
        "耳机充电盒丢了，可以单独买吗？",
        "可以，Aurora X200充电盒作为配件在音频类目中单独销售。把您现有的Aurora X200耳机放进去，就能直接配对使用。",
        ["product-help", "audio", "accessories"],
        [
            "充电仓丢了有卖新的吗",
            "aurora耳机的替换充电盒",
            "能单买一个x200的盒子吗",
        ],
    ),
    _faq(
        "zh-battery-care", "faq",
        "设备的电池怎么保养？",
        "请让设备远离高温，不要把它留在很热的车里。如果要存放一个月以上，请先充到50%左右，之后每3个月补一次电，并使用随附的数据线或经过认证的USB-C充电器。",
        ["product-help", "battery"],
        [
            "怎么让耳机电池更耐用",
            "整晚充电伤电池吗",
            "冬天不用手表怎么存放",
        ],
    ),
    _faq(
        "zh-smartwatch-compatibility", "faq",
        "智能手表能和我的手机兼容吗？",
        "每款智能手表的商品页都写明了兼容性；我们的智能手表一般通过品牌配套App支持iOS 16及以上的iPhone和Android 10及以上的手机。部分功能（例如回复消息）可能只在其"
        "中一个平台上可用。",
        ["product-help", "wearables"],
        [
            "手表支持华为手机吗",
            "iphone能配这个手表吗",
            "安卓能连手环吗",
        ],
    ),
    _faq(
        "zh-smart-home-setup", "faq",
        "智能家居设备Wi-Fi配网失败怎么办？",
        "我们的大部分智能家居设备需要2.4 GHz的Wi-Fi网络，所以设置过程中请让手机一直连在2.4 GHz网络上。"
        "这些设备支持Amazon Alexa和Google Home，是否支持Apple Home请看商品页说明。",
        ["product-help", "smart-home"],
        [
            "智能插座一直配网失败",
            "app里找不到灯泡",
            "摄像头能接alexa吗",
        ],
    ),
    _faq(
        "zh-gaming-controller-drift", "faq",
        "游戏手柄摇杆漂移，在保修范围内吗？",
        "摇杆漂移属于制造缺陷，在12个月电子产品保修范围内。请在“账户 > 我的订单 > 获取帮助”中提交保修申请。",
        ["product-help", "gaming", "warranty"],
        [
            "摇杆自己乱动",
            "手柄用几个月摇杆就坏了",
            "手柄一直往左飘",
        ],
    ),
    # --- 门店、会员和联系方式 --------------------------------------------------------------
    _faq(
        "zh-pickup", "faq",
        "可以到门店自提吗？",
        "可以，结账时选择“Store pickup（门店自提）”，即可在西雅图、奥斯汀、芝加哥或纽约的Brightcart门店免费取货。有现货的商品通常2小时内备好，我们会发邮件通知您；"
        "订单保留7天，取货时请带上带照片的身份证件和订单号。",
        ["pickup", "store"],
        [
            "能自己去店里拿吗",
            "芝加哥有门店吗",
            "到店取货要带什么",
        ],
    ),
    _faq(
        "zh-pickup-what-to-bring", "faq",
        "门店自提取货要带什么？",
        "请带上带照片的身份证件，以及订单号或自提通知邮件；自提订单我们会保留7天。逾期未取的订单会被取消，并退款到您的原支付方式。",
        ["pickup", "store"],
        [
            "老公能帮我去取吗",
            "订单在店里能放几天",
            "取货要出示身份证吗",
        ],
    ),
    _faq(
        "zh-store-hours", "faq",
        "门店营业时间是几点到几点？",
        "Brightcart门店周一至周六上午10点至晚上9点营业，周日上午11点至下午6点营业（当地时间）。节假日营业时间请查看各门店页面。",
        ["store", "hours"],
        [
            "店里几点关门",
            "周日开门吗",
            "纽约店几点开",
        ],
    ),
    _faq(
        "zh-rewards", "faq",
        "会员积分怎么算？",
        "Brightcart Rewards会员免费加入，每消费1美元积1分，100积分可抵5美元。积分会在签收30天后、退货期结束时到账，账户连续12个月无活动积分将过期。",
        ["membership", "rewards"],
        [
            "有会员吗",
            "积分能抵钱吗",
            "积分会过期吗",
        ],
    ),
    _faq(
        "zh-rewards-program", "faq",
        "Brightcart Rewards是什么？",
        "Brightcart Rewards是我们的免费会员积分计划：每消费1美元积1分，100积分可抵5美元。会员还能享受生日礼遇和促销活动抢先购。",
        ["membership", "rewards"],
        [
            "你们有会员积分制度吗",
            "积分是怎么攒的",
            "入会要钱吗",
        ],
    ),
    _faq(
        "zh-rewards-redeem", "faq",
        "积分怎么使用？",
        "结账时勾选“Use Rewards（使用积分）”，积分以每100分抵5美元为单位使用。积分不能兑换现金，也不能用来购买礼品卡。",
        ["membership", "rewards", "payment"],
        [
            "我的积分怎么花",
            "积分能提现吗",
            "下单怎么用积分抵扣",
        ],
    ),
    _faq(
        "zh-rewards-gold", "faq",
        "Brightcart Rewards的金卡会员是什么？",
        "一个自然年内消费满500美元，次年即可成为金卡（Gold）会员，每消费1美元可获得2积分，并且每笔订单都享受免费礼品包装。",
        ["membership", "rewards"],
        [
            "怎么升到下一个等级",
            "金卡会员有什么福利",
            "vip等级有啥好处",
        ],
    ),
    _faq(
        "zh-contact-human", "faq",
        "怎么联系人工客服？",
        "随时输入“人工”或“agent”，我就会为您转接人工客服。您也可以拨打1-800-555-0199，或发邮件到support@brightcart.com，我们会在24小时内回复"
        "邮件。",
        ["contact", "support"],
        [
            "转人工",
            "我要找真人",
            "客服电话多少",
        ],
    ),
    _faq(
        "zh-support-hours", "faq",
        "客服工作时间是什么时候？",
        "人工客服的在线聊天和电话服务时间为美国东部时间周一至周五上午8点至晚上8点、周六和周日上午9点至下午5点，中文客服为美国东部时间周一至周五上午9点至下午5点。智能助手全天24小时"
        "在线。",
        ["contact", "hours"],
        [
            "周末有客服吗",
            "人工几点下班",
            "中文客服什么时候在",
        ],
    ),
    _faq(
        "zh-contact-chinese", "faq",
        "有中文客服吗？",
        "有的，中文客服在美国东部时间周一至周五上午9点至下午5点通过在线聊天提供服务，这个智能助手则随时都能听懂中文。",
        ["contact", "language"],
        [
            "我妈能跟客服说普通话吗",
            "支持中文服务不",
            "有会讲中文的客服吗",
        ],
    ),
    # --- 账户和隐私 ------------------------------------------------------------------------
    _faq(
        "zh-account-guest-checkout", "faq",
        "下单一定要注册账户吗？",
        "不用，您可以以访客身份结账。有了账户就能跟踪订单、申请退货和赚取Brightcart Rewards积分；以后用同一邮箱注册，之前的访客订单也会关联到账户里。",
        ["account"],
        [
            "不注册能买吗",
            "必须注册会员吗",
            "注册账号有什么好处",
        ],
    ),
    _faq(
        "zh-account-password-reset", "faq",
        "忘记密码怎么办？",
        "在登录页点击“Forgot password（忘记密码）”，我们会发送一封重置邮件，链接1小时内有效。如果几分钟内没收到，请查看垃圾邮件箱。",
        ["account"],
        [
            "登不上账号了",
            "密码想不起来了",
            "重置密码的邮件没收到",
        ],
    ),
    _faq(
        "zh-account-update-details", "faq",
        "怎么修改邮箱或已保存的地址？",
        "在“账户 > 个人资料（Profile）”中可以修改姓名、邮箱、电话号码和已保存的地址。新邮箱需要点击我们发到该邮箱的链接确认后才能使用。",
        ["account", "address"],
        [
            "换手机号了怎么改",
            "默认地址在哪改",
            "账号想换个邮箱",
        ],
    ),
    _faq(
        "zh-account-delete", "faq",
        "怎么注销账户？",
        "进入“账户 > 隐私 > Delete account（删除账户）”，或者让我们帮您操作。我们会发邮件确认，并在30天内删除您的个人数据，只保留法律要求保存的订单记录。",
        ["account", "privacy"],
        [
            "账号不想用了能删吗",
            "怎么销户",
            "请删除我的所有个人信息",
        ],
    ),
    _faq(
        "zh-privacy-data", "faq",
        "你们会怎样使用我的个人信息？",
        "我们只会把您的信息用于处理订单、提供客服，以及在您同意后发送优惠信息，绝不出售您的个人数据。您可以在“账户 > 隐私”中下载自己的数据副本。",
        ["privacy"],
        [
            "会不会泄露我的信息",
            "你们卖用户数据吗",
            "我的资料你们存了哪些",
        ],
    ),
    _faq(
        "zh-privacy-marketing", "faq",
        "怎么取消营销邮件？",
        "点击任意营销邮件底部的“Unsubscribe（退订）”，或者在“账户 > 通知（Notifications）”中关闭消息即可。订单和物流邮件仍会照常发给您。",
        ["privacy", "account"],
        [
            "广告邮件太多了",
            "怎么退订",
            "别再给我发促销邮件了",
        ],
    ),
    _faq(
        "zh-account-security", "faq",
        "怎样保护账户安全？",
        "请在“账户 > 安全（Security）”中开启两步验证。Brightcart绝不会通过聊天、邮件或电话向您索要密码或完整的卡号。",
        ["account", "privacy"],
        [
            "收到一封要我密码的邮件是你们发的吗",
            "有没有双重验证",
            "账号好像被别人登了",
        ],
    ),
]

FAQS: list[dict] = _EN + _ZH
